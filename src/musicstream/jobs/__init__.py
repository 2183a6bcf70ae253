"""Entry points for schedulers and clusters, above the pipeline they drive.

    jobs/spark_submit.py   the spark-submit application: a run, or one stage, on Spark
    jobs/glue.py           the AWS Glue 5 job: Glue's arguments in, the same as spark-submit
    jobs/airflow_dag.py    what dags/musicstream_dag.py is built from (imports Airflow)

The CLI (``musicstream``) is the entry point for people; these are the ones for machines.
"""
