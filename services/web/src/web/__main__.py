"""`python -m web`: run the web front end with settings from the environment."""

from shared.runner import run
from web.app import create_app
from web.settings import WebSettings

if __name__ == "__main__":
    settings = WebSettings()
    run(create_app(settings), settings)
