"""`python -m forum`: run the service with settings from the environment."""

from forum.app import create_app
from forum.settings import ForumSettings
from shared.runner import run

if __name__ == "__main__":
    settings = ForumSettings()
    run(create_app(settings), settings)
