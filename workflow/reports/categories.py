"""The groups the new members' breakdown counts by, in the words the district reports
print: occupation groups (labelled by the process table, so forms and figures agree), age
bands at admission, and what stands for an answer nobody recorded.
"""

from __future__ import annotations

from workflow import process

# The occupation groups in the words the process table gives them (the districts' own).
OCCUPATION_LABELS = {code: process.CHOICE_LABELS[code].vi for code in process.OCCUPATIONS}
# Age at the ceremony: the youth band ends at the Youth Union's age limit (30).
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 17, "Dưới 18"),
    (18, 30, "18–30"),
    (31, 40, "31–40"),
    (41, 50, "41–50"),
    (51, 60, "51–60"),
    (61, None, "Trên 60"),
)
NO_RELIGION = "Không"
NOT_RECORDED = "Chưa ghi"
