"""`python -m notifications`: run the service with settings from the environment."""

from notifications.app import create_app
from notifications.settings import NotificationsSettings
from shared.runner import run

if __name__ == "__main__":
    settings = NotificationsSettings()
    run(create_app(settings), settings)
