"""`python -m analytics`: run the service with settings from the environment."""

from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from shared.runner import run

if __name__ == "__main__":
    settings = AnalyticsSettings()
    run(create_app(settings), settings)
