"""``clean_name``: the one function that turns free text into a name another system accepts."""

from __future__ import annotations

from pack.names import clean_name


def test_runs_of_other_characters_become_one_replacement():
    assert clean_name("my model / v2") == "my-model-v2"
    assert clean_name("  -.fraud v2.-  ") == "fraud-v2"
    assert clean_name("über-modell") == "ber-modell"
    assert clean_name("@@@") == ""


def test_each_target_alphabet():
    assert clean_name("RandomForest_Classifier v2", allowed="a-z0-9-", strip="-", lower=True) == (
        "randomforest-classifier-v2"
    )
    assert clean_name("my_model v2.1", allowed="A-Za-z0-9", strip="-") == "my-model-v2-1"
    assert clean_name("models:/rf@champion", replacement="_", max_length=63) == "models_rf_champion"
    assert clean_name("a b/c", replacement="_", strip="") == "a_b_c"


def test_max_length_cuts_then_trims_again():
    assert clean_name("x" * 100, max_length=63) == "x" * 63
    assert clean_name("a" * 62 + " b", max_length=63) == "a" * 62
