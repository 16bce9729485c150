"""Citation registry for the clinical layer.

Every threshold, dose and rule in :mod:`rrball.clinical` carries a source key written ``[S:KEY]``.
The keys are those of Appendix A of ``clinical-reference.md``; ``UNVERIFIED`` mirrors its
Appendix B (values marked there must be named, overridable parameters that cite the U-number).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import MappingProxyType

__all__ = [
    "DISCLAIMER",
    "SOURCES",
    "UNVERIFIED",
    "check_source_keys",
    "check_unverified",
    "source_keys",
]

DISCLAIMER = "Research tool, not for clinical dosing decisions."

SOURCES: MappingProxyType[str, str] = MappingProxyType(
    {
        "L-BLIN": "BLINCYTO (blinatumomab) US Prescribing Information, Amgen (via Drugs.com Dec "
        "2024, MIMS HK, openFDA; label table J Hematol Oncol 2019;12:15, PMC6368716 Table 1)",
        "L-BLIN-EU": "BLINCYTO EU-style SmPC text (MIMS Hong Kong product page)",
        "L-BLIN-HCP": "Amgen BLINCYTO HCP site (dosing, administration, adjustments)",
        "BLIN-TOX16": "Blinatumomab toxicity-management table, older label (PMC4994468 T1)",
        "BLIN-2014": "2014 BLINCYTO label text (reproduction)",
        "L-BESP": "BESPONSA (inotuzumab ozogamicin) US Prescribing Information, Pfizer",
        "L-BESP-HCP": "Pfizer BESPONSA HCP dosing and administration",
        "L-BESP-HCP-IE": "Pfizer BESPONSA dosing (EU SmPC content), pfizerpro.ie",
        "L-BESP-HK": "Pfizer BESPONSA dosing and administration, pfizerpro.com.hk",
        "L-BESP-EFF": "Pfizer BESPONSA efficacy page (EAC CR/CRi definitions)",
        "L-BESP-EU": "BESPONSA EU SmPC, EC Community Register",
        "CTA-BESP": "Cancer Therapy Advisor, BESPONSA",
        "FDA-INO-PED": "FDA approval of inotuzumab ozogamicin for paediatric ALL (6 March 2024)",
        "ASCO-INO-PED": "ASCO Post, inotuzumab ozogamicin for paediatric ALL (25 Aug 2024)",
        "L-DASA": "Dasatinib label text (reproductions)",
        "L-PONA": "Ponatinib label text (secondary reproductions)",
        "COG-IMA": "Imatinib 340 mg/m2/day in COG regimens (protocol tables)",
        "BLAST": "Gokbuget N et al. Blinatumomab for MRD in adults with BCP-ALL. Blood 2018",
        "BLIN-EFF": "Response definitions of blinatumomab trials (Drug Saf review Table 3; "
        "NCT02412306; TOWER)",
        "INOVATE": "Kantarjian HM et al. INO-VATE final report. Cancer 2019",
        "MDACC13": "Kantarjian H et al. Inotuzumab ozogamicin in R/R ALL. Cancer 2013",
        "SEED003-ASH": "Mini-hyper-CVD + inotuzumab +/- blinatumomab, Blood 2021;138(S1):3363",
        "SEED003-JHO": "Mini-hyper-CVD + inotuzumab +/- blinatumomab, J Hematol Oncol 2023",
        "BBMT10": "NCI First International Workshop on relapse after allo-HCT, BBMT 2010 Table 4a",
        "CIBMTR": "CIBMTR Forms Instruction Manual, ALL response criteria",
        "ELN-AML22-TAB": "ELN 2022 vs Princess Margaret response comparison (U34)",
        "PDL22": "Ponte-di-Legno consensus, Blood 2022;139(12):1785",
        "SCHRAPPE": "Schrappe M1/M2/M3 marrow grades",
        "BMJ-BP": "BMJ Best Practice, Acute lymphoblastic leukaemia, criteria",
        "ASTCT": "Lee DW et al. ASTCT consensus grading for CRS and neurologic toxicity. "
        "BBMT 2019;25(4):625-38",
        "ASTCT-PED": "MDedge report of ASTCT paediatric (CAPD) ICANS grading",
        "NCIT-ICANS": "NCI Thesaurus C188936 (ICANS grade 1 definition)",
        "SEA": "McDonald GB et al. Ann Intern Med 1993 (modified Seattle criteria)",
        "BAL": "Jones RJ et al. Transplantation 1987 (Baltimore criteria)",
        "VOD-REPRO": "SOS/VOD criteria reproductions (knowvodpro.com; wjgnet table)",
        "EBMT-A16": "Mohty M et al. EBMT adult SOS/VOD criteria. BMT 2016;51:906-12",
        "EBMT-A16-TAB": "EBMT adult 2016 severity table reproduction",
        "EBMT-P18": "Corbacioglu S et al. EBMT paediatric SOS/VOD criteria. BMT 2018;53:138-45",
        "VOD-PED-REPRO": "Paediatric SOS/VOD reproductions (medicalcriteria.com; PMC6020812 T3)",
        "CTCAE": "NCI CTCAE v5.0 (27 Nov 2017)",
        "ADMIRAL-CTCAE5": "pharmaverse/admiral data-raw/adlb_grading/ncictcaev5.json",
        "CTCAE-FN-COPY": "CTCAE v5.0 febrile-neutropenia wording (public transcriptions)",
        "BSA": "BSA formula list with original citations (globalrph.com/bsa2.htm)",
        "SEED000": "Seed 000: blinatumomab / inotuzumab response study, 182 patients",
        "SEED002": "Seed 002: two extramedullary-relapse case reports",
        "SEED004": "Seed 004: paediatric inotuzumab series, 27 patients",
        "PROPOSED": "Engineering choice of clinical-reference.md (not a clinical fact)",
    }
)

UNVERIFIED: MappingProxyType[str, str] = MappingProxyType(
    {
        "U01": "Blinatumomab MRD+ paediatric premedication beyond dexamethasone 5 mg/m2",
        "U02": "Grading system behind blinatumomab dose-modification grades; BSA analogues",
        "U03": "Blinatumomab weight basis and re-check of the 45 kg category each cycle",
        "U04": "Blinatumomab pre-phase dexamethasone dose (high tumour burden)",
        "U05": "InO haematological-toxicity criterion list; dose changes by interruption length",
        "U06": "InO paediatric premedication (methylprednisolone 1 mg/kg, max 50 mg)",
        "U07": "Seed 003 mini-HCVD cycle length",
        "U08": "Seed 003 rituximab and intrathecal doses/days",
        "U09": "Seed 003 blinatumomab dose",
        "U10": "Seed 003 amended sequence and 'subsequent cycles' = 2-4",
        "U11": "Seed 003 rule for choosing InO dose within 1.3-1.8 / 1.0-1.3 mg/m2",
        "U12": "Seed 003 MRD flow negativity threshold",
        "U15": "MD Anderson CR/CRp/CRi numeric cut-offs",
        "U16": "Blinatumomab-trial CRi definition",
        "U17": "NCCN ALL response-criteria wording",
        "U18": "'MRD negative with insufficient sensitivity' category",
        "U19": "ASTCT CRS numeric hypotension definition; grade 5",
        "U20": "ICANS tool at exactly age 12; CAPD band '1-8' vs '<9'",
        "U21": "Modified Seattle bilirubin boundary; Baltimore weight-gain boundary",
        "U22": "EBMT adult 2016 severity weight-gain row",
        "U23": "EBMT paediatric 2018 severity merged cells; thrombocytopenia >7 vs >=7 days",
        "U25": "TKI doses (imatinib, nilotinib, bosutinib)",
        "U29": "No BSA formula named in the labels",
        "U30": "Seed 000 weeks mapped to days 1-7 / 8-28 and days 1/8/15",
        "U31": "Seed 000 child = <=18 years",
        "U32": "Label versions read through third-party reproductions",
        "U34": "ELN 2022 tables read via later reproductions",
        "U36": "InO label has no BSA cap",
        "U39": "Seed 000 InO cycle length",
        "U41": "Seed 000 blinatumomab step-up in every cycle vs cycle 1 only",
    }
)

_KEY = re.compile(r"\[S:([A-Za-z0-9-]+)\]")
_UNUM = re.compile(r"^U\d{2}$")


def source_keys(text: str) -> tuple[str, ...]:
    """The ``[S:KEY]`` keys cited in ``text``, in order of appearance."""
    return tuple(_KEY.findall(text))


def check_source_keys(text: str) -> list[str]:
    """Problems with the source citations of ``text`` (empty list when every key is known)."""
    keys = source_keys(text)
    if not keys:
        return [f"cites no source key [S:...]: {text!r}"]
    return [f"unknown source key [S:{k}]" for k in keys if k not in SOURCES]


def check_unverified(numbers: Iterable[str]) -> list[str]:
    """Problems with a list of UNVERIFIED numbers (unknown or malformed U-numbers)."""
    return [
        f"unknown UNVERIFIED item {u!r}"
        for u in numbers
        if not _UNUM.match(u) or u not in UNVERIFIED
    ]
