"""Derive the adult survey percentiles that bench/plausibility.py compares sampled bodies with.

    python bench/data/survey_percentiles.py NHANES_P_DEMO_BMX.csv ANSUR_II_FEMALE.csv

Writes bench/data/anthropometric_surveys.json (committed; this script only documents and
reproduces it). Sources, both public domain (US government works):

- NHANES 2017-March 2020 pre-pandemic: body measures (P_BMX) merged with demographics and
  sample weights (P_DEMO). National Center for Health Statistics, released May 2021,
  https://wwwn.cdc.gov/Nchs/Nhanes/2017-2018/P_BMX.htm. Adults aged 20 and over, weighted by
  the examination weight WTMECPRP (the CSV used was the SEQN-merged P_DEMO + P_BMX table in
  gagolews/teaching-data, marek/nhanes_p_demo_bmx_2020.csv). Height (BMXHT), BMI (BMXBMI),
  waist (BMXWAIST), weight (BMXWT); NHANES measures no chest girth.
- ANSUR II, the 2012 Anthropometric Survey of US Army Personnel (Gordon et al., 2014,
  NATICK/TR-15/007), women's public file (1,986 soldiers): chest circumference, unweighted.
  The men's file was not available here, so chest is compared for women only.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

PERCENTILES = [0.5, 1, 2.5, 5, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5]
OUT = Path(__file__).parent / "anthropometric_surveys.json"


def weighted_percentiles(values, weights, percentiles) -> list[float]:
    """Percentiles of ``values`` under ``weights`` (midpoint rule), NaNs dropped."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    keep = np.isfinite(values) & np.isfinite(weights)
    values, weights = values[keep], weights[keep]
    order = np.argsort(values)
    values, weights = values[order], weights[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return [round(float(v), 2) for v in np.interp(np.array(percentiles) / 100, cumulative, values)]


def main() -> None:
    import pandas as pd

    nhanes = pd.read_csv(sys.argv[1], comment="#")
    adults = nhanes[nhanes.RIDAGEYR >= 20]
    columns = {"height_cm": "BMXHT", "bmi": "BMXBMI", "waist_cm": "BMXWAIST", "mass_kg": "BMXWT"}
    groups = {"all": adults, "men": adults[adults.RIAGENDR == 1],
              "women": adults[adults.RIAGENDR == 2]}
    nhanes_table = {
        group: {name: weighted_percentiles(rows[column], rows.WTMECPRP, PERCENTILES)
                for name, column in columns.items()}
        for group, rows in groups.items()}
    bmi = adults.BMXBMI.to_numpy(float)
    weights = adults.WTMECPRP.to_numpy(float)
    classes = [0, 18.5, 25, 30, 35, 40, 1000]
    fractions = {}
    for group, code in (("men", 1), ("women", 2)):
        mask = (adults.RIAGENDR == code).to_numpy() & np.isfinite(bmi)
        total = weights[mask].sum()
        fractions[group] = [round(float(weights[mask & (bmi >= lo) & (bmi < hi)].sum() / total), 4)
                            for lo, hi in itertools.pairwise(classes)]
    ansur = pd.read_csv(sys.argv[2], encoding="latin-1")
    data = {
        "percentiles": PERCENTILES,
        "nhanes": {"source": "NHANES 2017-March 2020 pre-pandemic (P_DEMO + P_BMX), adults 20+, "
                             "weighted by WTMECPRP; National Center for Health Statistics, 2021",
                   "count": {g: len(rows) for g, rows in groups.items()},
                   **nhanes_table,
                   "bmi_class_edges": classes[:-1],
                   "bmi_class_fractions": fractions},
        "ansur2": {"source": "ANSUR II (Gordon et al., 2014, NATICK/TR-15/007), women's public "
                             "file, unweighted; chest circumference in cm",
                   "count": {"women": len(ansur)},
                   "women": {"chest_cm": [round(float(v), 2) for v in np.percentile(
                       ansur.chestcircumference / 10, PERCENTILES)]}},
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
