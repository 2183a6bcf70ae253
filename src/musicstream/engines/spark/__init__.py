"""The distributed engine: Apache Spark 3.5 (spark-submit on any cluster, or AWS Glue 5).

pyspark is imported only inside this package, so the embedded default never needs it.
"""
