"""The read API (SPEC §7): the store's access patterns over HTTP, a live dashboard, and the
same application as an AWS Lambda function.

    api/app.py         the FastAPI application over the Store contract (``create_app``)
    api/dashboard/     the dashboard page and its script, served at ``/``
    api/aws.py         the Lambda entry point (API Gateway HTTP API events, via Mangum)
"""
