"""People and sign-in: the person records, adding people, the built-in identity provider (password sign-in,
the signing key, JWKS and discovery)."""
