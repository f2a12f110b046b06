import sys

from automl.cli._main import main

sys.exit(main())
