from services.api.cli import app

app()
