from .cli import service_app

service_app(prog_name="python -m api")
