"""The groups the new members' breakdown counts by, in the words the district reports
print: occupation groups (labelled by the process table, so forms and figures agree), age
bands at admission, and what stands for an answer nobody recorded.
"""

from __future__ import annotations

from workflow import process

# The occupation groups the breakdown counts, as the articles group them: village heads,
# deputies and hamlet or residential-group leaders are one group ("trưởng phó thôn 18"),
# each other occupation its own. A group's key is its first occupation's code.
VILLAGE_OFFICIALS = ("village_head", "village_deputy", "hamlet_leader")
OCCUPATION_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    code: (
        ("Trưởng, phó thôn", VILLAGE_OFFICIALS)
        if code == VILLAGE_OFFICIALS[0]
        else (process.CHOICE_LABELS[code].vi, (code,))
    )
    for code in process.OCCUPATIONS
    if code not in VILLAGE_OFFICIALS[1:]
}
GROUP_OF = {code: key for key, (_, codes) in OCCUPATION_GROUPS.items() for code in codes}
OCCUPATION_LABELS = {key: label for key, (label, _) in OCCUPATION_GROUPS.items()}
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
