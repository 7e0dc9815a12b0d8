"""`python -m accounts`: run the service with settings from the environment."""

from accounts.app import create_app
from accounts.settings import AccountsSettings
from shared.runner import run

if __name__ == "__main__":
    settings = AccountsSettings()
    run(create_app(settings), settings)
