"""Semantify's web app (also the Hugging Face Space entry point): `python app.py`."""

from semantify.app import build_app, launch

demo = build_app()

if __name__ == "__main__":
    launch(demo)
