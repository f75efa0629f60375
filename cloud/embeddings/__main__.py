import sys

from cloud.embeddings.cli import main

sys.exit(main())
