"""`python -m chronology`: run the service with settings from the environment;
`python -m chronology rebuild [--help]`: rebuild its read models from the topics (`shared.rebuild`)."""

import asyncio
import sys

from chronology.app import create_app
from chronology.readmodels import rebuild_command
from chronology.settings import ChronologySettings
from shared.runner import run

if __name__ == "__main__":
    settings = ChronologySettings()
    if sys.argv[1:2] == ["rebuild"]:
        sys.exit(asyncio.run(rebuild_command(settings, sys.argv[2:])))
    run(create_app(settings), settings)
