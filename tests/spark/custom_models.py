"""Source of the custom Python models the Spark tests ship with their code (``code_paths``)."""

SOURCE = '''
import numpy as np
import pandas as pd
import pack.pyfunc


class Scaled(pack.pyfunc.PythonModel):
    """x * factor (a param with a default)."""

    def predict(self, context, model_input, params=None):
        return model_input["x"].to_numpy() * (params or {}).get("factor", 1.0)


class LabelAndScore(pack.pyfunc.PythonModel):
    """Two named outputs: label (x > 0, as a long) and score (2x)."""

    def predict(self, context, model_input, params=None):
        x = model_input["x"].to_numpy()
        return pd.DataFrame({"label": (x > 0).astype(np.int64), "score": x * 2.0})
'''
