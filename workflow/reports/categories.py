"""The groups the new members' breakdown counts by, in the words the district reports
print: occupation groups, age bands at admission, and what stands for an answer nobody
recorded. Application forms print the same occupation words, so forms and figures agree.
"""

from __future__ import annotations

from workflow import process

OCCUPATION_LABELS = {
    "civil_servant": "Cán bộ, công chức",
    "public_employee": "Viên chức",
    "farmer": "Nông dân",
    "worker": "Công nhân",
    "armed_forces": "Công an, quân đội",
    "business_owner": "Kinh doanh",
    "enterprise_owner": "Chủ doanh nghiệp",
    "village_head": "Trưởng, phó thôn",
    "student": "Học sinh, sinh viên",
    "other": "Khác",
}
assert tuple(OCCUPATION_LABELS) == process.OCCUPATIONS, "occupations follow process.py"
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
