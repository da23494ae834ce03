"""`python -m converter` runs the tf2kro CLI."""

from converter.cli import main

if __name__ == "__main__":
    main()
