"""Identity and matching: is this a child who already has an account? NHS number, or name + date of birth +
postcode; what is uncertain waits for a manager (registrations in `pending_matches`, agency contacts without an
NHS number in `contact_matches`) and is never merged silently."""
