"""The read API on AWS Lambda behind an API Gateway HTTP API (payload format 2.0).

Settings come from the function's environment (``MUSICSTREAM_STORE=dynamodb``,
``MUSICSTREAM_STORE_PREFIX``, ``MUSICSTREAM_AWS_REGION``); API Gateway authorizes callers
with IAM (SigV4), so no ``api_token`` is set there. The app is built once per cold start and
serves every invocation of that execution environment.
"""

from __future__ import annotations

from mangum import Mangum

from musicstream.api.app import create_app
from musicstream.settings import load_settings

# lifespan off: the app has no startup or shutdown work, and Lambda gives it no shutdown
handler = Mangum(create_app(load_settings()), lifespan="off")
