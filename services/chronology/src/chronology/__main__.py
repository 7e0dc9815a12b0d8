"""`python -m chronology`: run the service with settings from the environment."""

from shared.runner import run

from chronology.app import create_app
from chronology.settings import ChronologySettings

if __name__ == "__main__":
    settings = ChronologySettings()
    run(create_app(settings), settings)
