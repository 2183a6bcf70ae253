"""The AWS Glue job script (upload to S3 as the job's ScriptLocation).

All the code is in the musicstream wheel, installed on the job with
``--additional-python-modules s3://…/musicstream-<version>-py3-none-any.whl``.
"""

from musicstream.jobs.glue import main

main()
