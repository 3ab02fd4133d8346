"""Allow ``python -m prefixlint``."""

from prefixlint.cli import main

if __name__ == "__main__":
    main()
