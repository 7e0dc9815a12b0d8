"""`python -m accounts`: run the service with settings from the environment."""

from shared.runner import run

from accounts.app import create_app
from accounts.settings import AccountsSettings

if __name__ == "__main__":
    settings = AccountsSettings()
    run(create_app(settings), settings)
