"""`python -m forum`: run the service with settings from the environment."""

from shared.runner import run

from forum.app import create_app
from forum.settings import ForumSettings

if __name__ == "__main__":
    settings = ForumSettings()
    run(create_app(settings), settings)
