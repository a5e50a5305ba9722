"""moto's S3-compatible WSGI app, for a real HTTP/1.1 server process (gunicorn gthread).

``python -m moto.server`` answers every request with ``Connection: close``
(Werkzeug's development server), so a client can never keep a connection
to it; served by gunicorn's threaded worker, the same app keeps connections
alive, as S3 and MinIO do.
"""

from __future__ import annotations

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
