"""`python -m analytics`: run the service with settings from the environment;
`python -m analytics rebuild [--help]`: rebuild its read models from the topics (`shared.rebuild`)."""

import asyncio
import sys

from analytics.app import create_app
from analytics.readmodels import rebuild_command
from analytics.settings import AnalyticsSettings
from shared.runner import run

if __name__ == "__main__":
    settings = AnalyticsSettings()
    if sys.argv[1:2] == ["rebuild"]:
        sys.exit(asyncio.run(rebuild_command(settings, sys.argv[2:])))
    run(create_app(settings), settings)
