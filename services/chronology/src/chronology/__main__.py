"""`python -m chronology`: run the service with settings from the environment."""

from chronology.app import create_app
from chronology.settings import ChronologySettings
from shared.runner import run

if __name__ == "__main__":
    settings = ChronologySettings()
    run(create_app(settings), settings)
