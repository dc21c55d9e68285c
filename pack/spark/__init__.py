"""Batch scoring on Spark: any pack model as a pandas UDF (``spark_udf``, also ``pack.pyfunc.spark_udf``)
and whole datasets (``pack.spark.batch.score_dataset``, behind ``pack predict --engine spark``).

Importing this package imports pyspark (``pip install 'pack[spark]'``); nothing else in pack does.
"""

from pack.spark.udf import ModelUDF, spark_udf

__all__ = ["ModelUDF", "spark_udf"]
