"""REDCap mapping of the cohort model (data-dictionary.md §7): project dictionary and records.

Pure functions, no I/O (the files are read and written by ``rrball.cohort.readers.redcap``):

* ``redcap_dictionary()`` — the REDCap data-dictionary CSV (18 columns A–R) of a *classic project
  with repeating instruments*: one instrument per table, field name = prefix + column name (the
  prefix not doubled), field types by rrball kind, raw codes with labels, ``Required Field? = y``
  for R columns, branching logic for the C columns whose condition lies in the same instrument,
  section headers, units fixed at emission (``@RRBALL-UNIT=<unit>`` plus the Field Note) and text
  validation min/max converted to that unit. It depends only on the schema, so it needs no cohort.
* ``redcap_records()`` — a cohort's text tables as REDCap "CSV raw data" (raw codes, checkbox
  ``field___code`` columns, row keys replaced by instances), used by
  ``Cohort.export(format="redcap")``.
* ``redcap_keys()`` — the row keys the REDCap mapping gives each row (§7: keys come from
  instances), so a cohort keyed otherwise can be compared with its REDCap round trip.

Row keys (§7 names ``L``, ``A`` and ``E``; the other letters are this module's choice, §7's "and
so on"): ``line_id = {record_id}-L{n}``, ``assessment_id = -A{n}``, ``hsct_id = -H{n}``,
``event_id = -F{n}`` (follow-up), ``ae_obs_id = -O{n}`` (one AE observation row),
``ae_id = -E{episode}``, ``adm_id = -X{n}`` (exposure, SDTM EX).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rrball.cohort.schema import (
    CODE_LISTS,
    MRD_SCALES,
    SCHEMA_VERSION,
    TABLES,
    UNIT_FACTORS,
    Column,
)
from rrball.errors import CohortIssue, CohortValidationError, InputError

if TYPE_CHECKING:
    from rrball.cohort.cohort import Cohort

__all__ = [
    "CANONICAL_UNITS",
    "DICTIONARY_COLUMNS",
    "DICTIONARY_VERSION",
    "INSTRUMENTS",
    "Instrument",
    "choice_labels",
    "export_redcap",
    "field_name",
    "field_units",
    "from_unit_text",
    "is_redcap_input",
    "load_redcap",
    "redcap_dictionary",
    "redcap_keys",
    "redcap_records",
    "reference_fields",
    "resolve_units",
]

DICTIONARY_VERSION = SCHEMA_VERSION
"""Version written into ``pt_dictionary_version`` (``@HIDDEN @DEFAULT="1.0"``)."""

DICTIONARY_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
)


@dataclass(frozen=True, slots=True)
class Instrument:
    """One §7 instrument: its table, form name, field prefix, row-key letter and events."""

    table: str
    form: str
    prefix: str
    letter: str | None
    events: tuple[str, ...]

    @property
    def repeating(self) -> bool:
        return self.letter is not None


INSTRUMENTS: Mapping[str, Instrument] = {
    i.table: i for i in (
        Instrument("patients", "patient", "pt_", None, ("enrolment_arm_1",)),
        Instrument("treatment_lines", "treatment_line", "ln_", "L", ("treatment_arm_1",)),
        Instrument("assessments", "assessment", "as_", "A",
                   ("treatment_arm_1", "follow_up_arm_1")),
        Instrument("transplants", "transplant", "tx_", "H",
                   ("treatment_arm_1", "follow_up_arm_1")),
        Instrument("follow_up", "follow_up_event", "fu_", "F", ("follow_up_arm_1",)),
        Instrument("adverse_events", "adverse_event", "ae_", "O", ("treatment_arm_1",)),
        Instrument("administrations", "administration", "ad_", "X", ("treatment_arm_1",)),
    )
}
FORM_TABLE: Mapping[str, str] = {i.form: t for t, i in INSTRUMENTS.items()}
RECORD_ID = "record_id"
VERSION_FIELD = "pt_dictionary_version"
EPISODE_FIELD = "ae_episode"
EPISODE_LETTER = "E"

CANONICAL_UNITS: Mapping[str, str] = {
    "unit_anc": "10^9/L", "unit_plt": "10^9/L", "unit_wbc": "10^9/L",
    "unit_pb_blast_abs": "10^9/L", "unit_bilirubin": "mg/dL", "unit_creatinine": "mg/dL",
    "unit_enzymes": "U/L", "unit_temperature": "C", "unit_weight": "kg", "unit_height": "cm",
}
_UNIT_NOTE = {"10^9/L": "x10^9/L", "10^3/uL": "x10^3/uL", "/uL": "/uL", "C": "degrees C",
              "F": "degrees F"}
_MRD_NOTE = {"percent": "percent of nucleated cells", "fraction": "fraction of nucleated cells",
             "log10": "log10 of the fraction of nucleated cells"}
# Columns with one fixed physical unit (no metadata key): annotation unit, Field Note.
FIXED_UNITS: Mapping[str, tuple[str, str]] = {
    "age_at_diagnosis_years": ("years", "years"),
    "bm_blast_pct": ("%", "% of nucleated marrow cells"),
    "cd19_pct": ("%", "% of blasts"), "cd22_pct": ("%", "% of blasts"),
    "cd20_pct": ("%", "% of blasts"),
    "weight_kg": ("kg", "kg"), "baseline_weight_kg": ("kg", "kg"), "height_cm": ("cm", "cm"),
    "o2_flow_l_min": ("L/min", "L/min"), "egfr": ("mL/min/1.73m2", "mL/min/1.73 m2"),
    "hvpg_mmhg": ("mmHg", "mmHg"), "bsa_m2": ("m2", "m2"),
    "anc_lln": ("10^9/L", "x10^9/L"), "plt_lln": ("10^9/L", "x10^9/L"),
}
_PLAIN_NOTES = {"ice_score": "points (0-10)", "capd_score": "points (0-32)",
                "refractory_thrombocytopenia_days": "days", "dose_value": "in the dose unit below",
                "agvhd_max_grade": "0-4"}

# ---- labels --------------------------------------------------------------------------------------
FIELD_LABELS: Mapping[str, str] = {
    "patients.centre_id": "Centre", "patients.sex": "Sex", "patients.birth_date": "Birth date",
    "patients.age_at_diagnosis_years": "Age at diagnosis",
    "patients.diagnosis_date": "Date of diagnosis (ALL)", "patients.ph_status":
    "Philadelphia chromosome (BCR::ABL1)", "patients.bcr_abl1_isoform": "BCR::ABL1 isoform",
    "patients.ph_like": "Ph-like ALL", "patients.kmt2a_status": "KMT2A rearrangement",
    "patients.kmt2a_partner": "KMT2A partner gene", "patients.ikzf1_status": "IKZF1 status",
    "patients.cytogenetic_risk": "Cytogenetic risk (centre grouping)",
    "patients.complex_karyotype": "Complex karyotype",
    "patients.cns_status_at_diagnosis": "CNS status at diagnosis",
    "patients.wbc_at_diagnosis": "WBC at diagnosis",
    "patients.frontline_protocol": "Frontline protocol",
    "patients.primary_refractory": "Primary refractory (no CR after frontline induction)",
    "patients.first_cr_date": "Date of first CR", "patients.first_relapse_date":
    "Date of first relapse",
    "treatment_lines.line_start_date": "Start of line (cycle 1 day 1)",
    "treatment_lines.index_line": "Index line of the study", "treatment_lines.regimen": "Regimen",
    "treatment_lines.regimen_detail": "Regimen details",
    "treatment_lines.salvage_number": "Salvage number (1 = S1)",
    "treatment_lines.relapse_number": "Number of relapses before this line",
    "treatment_lines.disease_status_at_start": "Disease status at start",
    "treatment_lines.remission_number_at_start": "Remission number at start",
    "treatment_lines.emd_at_start": "Extramedullary disease at start",
    "treatment_lines.emd_sites_at_start": "Extramedullary sites at start",
    "treatment_lines.cns_status_at_start": "CNS status at start",
    "treatment_lines.prior_allo_hsct": "Prior allogeneic HSCT",
    "treatment_lines.n_prior_allo_hsct": "Number of prior allogeneic HSCTs",
    "treatment_lines.prior_blinatumomab": "Prior blinatumomab",
    "treatment_lines.prior_inotuzumab": "Prior inotuzumab ozogamicin",
    "treatment_lines.prior_car_t": "Prior CAR-T",
    "treatment_lines.n_prior_lines": "Number of prior therapy lines (frontline included)",
    "treatment_lines.weight_kg": "Weight", "treatment_lines.height_cm": "Height",
    "treatment_lines.body_measure_date": "Date of weight and height",
    "treatment_lines.tki": "Tyrosine kinase inhibitor", "treatment_lines.cd19_pct":
    "CD19-positive blasts", "treatment_lines.cd22_pct": "CD22-positive blasts",
    "treatment_lines.cd20_pct": "CD20-positive blasts",
    "treatment_lines.cytoreduction_prephase": "Cytoreductive pre-phase",
    "treatment_lines.n_cycles": "Cycles started", "treatment_lines.line_end_date":
    "End of line (last dose or end of last cycle)",
    "treatment_lines.line_end_reason": "Reason for end of line",
    "treatment_lines.reported_best_response": "Best response (as reported)",
    "treatment_lines.reported_best_response_date": "Date of reported best response",
    "assessments.assessment_date": "Assessment date (bone marrow aspirate)",
    "assessments.assessment_reason": "Reason for assessment",
    "assessments.bm_blast_pct": "Bone marrow blasts (morphology)",
    "assessments.bm_sample_adequate": "Bone marrow sample adequate",
    "assessments.pb_blasts": "Leukaemic blasts in blood",
    "assessments.pb_blast_abs": "Absolute blood blasts", "assessments.wbc": "White blood cells",
    "assessments.anc": "Absolute neutrophil count", "assessments.plt": "Platelets",
    "assessments.plt_transfusion_independent": "Platelet-transfusion independent (7 days)",
    "assessments.emd": "Extramedullary disease", "assessments.emd_sites": "Extramedullary sites",
    "assessments.emd_method": "EMD assessment method", "assessments.cns_status": "CNS status",
    "assessments.mrd_detected": "MRD detected", "assessments.mrd_value": "MRD value",
    "assessments.mrd_unit": "MRD unit", "assessments.mrd_method": "MRD method",
    "assessments.mrd_lod": "MRD limit of detection", "assessments.mrd_sample": "MRD sample",
    "assessments.mrd_marker": "MRD marker", "assessments.reported_response":
    "Response (as reported)",
    "transplants.hsct_date": "HSCT date (day 0)", "transplants.hsct_type": "HSCT type",
    "transplants.hsct_number": "HSCT number of the patient", "transplants.donor_type":
    "Donor type", "transplants.stem_cell_source": "Stem-cell source",
    "transplants.conditioning_intensity": "Conditioning intensity",
    "transplants.conditioning_regimen": "Conditioning regimen", "transplants.tbi":
    "Total body irradiation", "transplants.ptcy": "Post-transplant cyclophosphamide",
    "transplants.reported_status_at_hsct": "Disease status at HSCT (as reported)",
    "transplants.engraftment_date": "Neutrophil engraftment date",
    "transplants.agvhd_max_grade": "Maximum acute GVHD grade", "transplants.cgvhd":
    "Chronic GVHD",
    "follow_up.event_type": "Event", "follow_up.event_date": "Event date",
    "follow_up.relapse_sites": "Relapse sites", "follow_up.relapse_confirmation":
    "Relapse confirmed by", "follow_up.death_cause": "Cause of death",
    "follow_up.vital_status": "Vital status at last contact",
    "follow_up.status_at_last_contact": "Disease status at last contact",
    "adverse_events.ae_term": "Adverse event", "adverse_events.ae_term_other":
    "Other AE (CTCAE v5 term)", "adverse_events.onset_date": "Onset date",
    "adverse_events.obs_date": "Date of these observations",
    "adverse_events.resolution_date": "Resolution date", "adverse_events.outcome": "Outcome",
    "adverse_events.reported_grade": "Grade (as reported)",
    "adverse_events.reported_grade_scale": "Grading scale of the reported grade",
    "adverse_events.serious": "Serious", "adverse_events.related_to_line":
    "Related to this line", "adverse_events.action_taken": "Action taken",
    "adverse_events.tocilizumab": "Tocilizumab given", "adverse_events.corticosteroids":
    "Corticosteroids given", "adverse_events.defibrotide": "Defibrotide given",
    "adverse_events.temp_max_c": "Maximum temperature",
    "adverse_events.fever_masked": "Fever masked by antipyretic or anti-cytokine therapy",
    "adverse_events.hypotension": "Hypotension (not attributable to another cause)",
    "adverse_events.n_vasopressors_excl_vasopressin": "Vasopressors (excluding vasopressin)",
    "adverse_events.vasopressin": "Vasopressin", "adverse_events.oxygen_device":
    "Oxygen device", "adverse_events.o2_flow_l_min": "Oxygen flow",
    "adverse_events.ice_score": "ICE score", "adverse_events.capd_score": "CAPD score",
    "adverse_events.consciousness": "Depressed level of consciousness",
    "adverse_events.seizure": "Seizure", "adverse_events.deep_focal_motor_weakness":
    "Deep focal motor weakness", "adverse_events.raised_icp": "Raised intracranial pressure",
    "adverse_events.alt": "ALT", "adverse_events.ast": "AST", "adverse_events.alt_uln":
    "ALT upper limit of normal", "adverse_events.ast_uln": "AST upper limit of normal",
    "adverse_events.alt_baseline": "ALT before treatment",
    "adverse_events.ast_baseline": "AST before treatment",
    "adverse_events.bilirubin": "Total bilirubin",
    "adverse_events.bilirubin_uln": "Bilirubin upper limit of normal",
    "adverse_events.bilirubin_baseline": "Bilirubin before treatment",
    "adverse_events.anc": "Absolute neutrophil count", "adverse_events.plt": "Platelets",
    "adverse_events.anc_lln": "ANC lower limit of normal",
    "adverse_events.plt_lln": "Platelets lower limit of normal",
    "adverse_events.fever_sustained_1h": "Fever >= 38.0 C for more than 1 hour",
    "adverse_events.life_threatening": "Life-threatening (urgent intervention)",
    "adverse_events.weight_kg": "Weight", "adverse_events.baseline_weight_kg":
    "Baseline weight (before conditioning or first InO dose)",
    "adverse_events.hepatomegaly": "Hepatomegaly", "adverse_events.hepatomegaly_painful":
    "Painful hepatomegaly", "adverse_events.hepatomegaly_imaging":
    "Hepatomegaly confirmed by imaging", "adverse_events.ruq_pain":
    "Right upper quadrant pain", "adverse_events.ascites": "Ascites",
    "adverse_events.ascites_imaging": "Ascites confirmed by imaging",
    "adverse_events.weight_gain_3d_despite_diuretics":
    "Weight gain on 3 days despite diuretics",
    "adverse_events.plt_transfusion_refractory": "Refractory to platelet transfusion",
    "adverse_events.refractory_thrombocytopenia_days": "Days of refractory thrombocytopenia",
    "adverse_events.creatinine": "Creatinine", "adverse_events.creatinine_baseline":
    "Creatinine before treatment", "adverse_events.egfr": "eGFR",
    "adverse_events.coagulation": "Coagulation", "adverse_events.new_cognitive_impairment":
    "New cognitive impairment", "adverse_events.doppler_sos_findings":
    "Ultrasound or haemodynamic evidence of SOS", "adverse_events.hvpg_mmhg":
    "Hepatic venous pressure gradient", "adverse_events.histology_proven": "Histology proven",
    "administrations.drug": "Drug", "administrations.drug_other": "Other drug",
    "administrations.start_date": "Dose date or interval start",
    "administrations.end_date": "Interval end", "administrations.cycle": "Cycle",
    "administrations.cycle_day": "Day of cycle", "administrations.dose_value": "Dose",
    "administrations.dose_unit": "Dose unit", "administrations.route": "Route",
    "administrations.bsa_m2": "Body surface area", "administrations.interrupted":
    "Infusion interrupted",
}
_REGIMEN_LABELS = {
    "1": "Blinatumomab (US label, R/R)", "2": "Blinatumomab (US label, MRD+)",
    "3": "Blinatumomab (seed 000 schedule)", "4": "Inotuzumab (US label)",
    "5": "Inotuzumab (seed 000 schedule)", "6": "Inotuzumab (seed 004, paediatric)",
    "7": "Mini-HCVD + inotuzumab (single dose)",
    "8": "Mini-HCVD + inotuzumab (fractionated) + blinatumomab",
    "10": "Blinatumomab, other schedule", "11": "Inotuzumab, other schedule",
    "20": "Chemotherapy, other", "21": "CAR-T", "22": "TKI only", "23": "DLI",
    "24": "Local radiotherapy", "25": "Other", "99": "Unknown",
}
_WORDS = {"crs": "CRS", "icans": "ICANS", "sos": "SOS", "vod": "VOD", "cns": "CNS",
          "cns1": "CNS1", "cns2": "CNS2", "cns3": "CNS3", "mrd": "MRD", "hsct": "HSCT",
          "emd": "EMD", "alt": "ALT", "ast": "AST", "ct": "CT", "mri": "MRI", "us": "US",
          "pet": "PET", "csf": "CSF", "bm": "BM", "pb": "PB", "cr": "CR", "cr1": "CR1",
          "cr2": "CR2", "cr3plus": "CR3+", "crh": "CRh", "cri": "CRi", "crp": "CRp", "pr": "PR",
          "pd": "PD", "mac": "MAC", "ric": "RIC", "nma": "NMA", "gvhd": "GVHD", "ngs": "NGS",
          "pcr": "PCR", "qpcr": "qPCR", "ig": "IG", "tr": "TR", "ikzf1": "IKZF1",
          "astct": "ASTCT", "ctcae": "CTCAE", "ebmt": "EBMT", "v5": "v5", "v4": "v4",
          "nc": "NC", "cpap": "CPAP", "bipap": "BiPAP", "iv": "IV", "icp": "ICP",
          "eeg": "EEG", "cn6": "CN VI", "mcg": "mcg", "mg": "mg", "m2": "m2", "kg": "kg",
          "p190": "p190", "p210": "p210", "dli": "DLI", "tki": "TKI", "gt5min": "> 5 min",
          "pct": "%", "eln2022": "ELN 2022"}


def _humanise(code: str) -> str:
    words = [_WORDS.get(w, w) for w in code.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def choice_labels(list_name: str) -> dict[str, str]:
    """Raw value -> choice label of a §2.2 code list (labels for REDCap forms)."""
    codes = CODE_LISTS[list_name]
    if list_name == "regimen":
        return {raw: _REGIMEN_LABELS.get(raw, _humanise(code)) for raw, code in codes.items()}
    return {raw: _humanise(code) for raw, code in codes.items()}


def list_of(col: Column) -> str | None:
    """The §2.2 code list of a column (``yn`` for bool, ``tri``, the column's list), or None."""
    if col.kind == "bool":
        return "yn"
    if col.kind == "tri":
        return "tri"
    if col.kind in ("enum", "set"):
        return col.codes or col.name
    return None


# ---- field names ---------------------------------------------------------------------------------
def field_name(table: str, column: str) -> str:
    """§7: prefix + column name, the prefix not doubled (``ae_term`` stays ``ae_term``)."""
    prefix = INSTRUMENTS[table].prefix
    return column if column.startswith(prefix) else prefix + column


def reference_fields(table: str) -> dict[str, str]:
    """Id columns of ``table`` carried by integer instance fields: column -> field (§7)."""
    out: dict[str, str] = {}
    cols = TABLES[table].columns
    if table != "treatment_lines" and "line_id" in cols:
        out["line_id"] = INSTRUMENTS[table].prefix + "line_instance"
    if table == "adverse_events":
        out["hsct_id"] = "ae_hsct_instance"
        out["ae_id"] = EPISODE_FIELD
    return out


def data_columns(table: str) -> list[str]:
    """Columns of ``table`` that are REDCap fields (not the key, patient_id or references)."""
    skip = {TABLES[table].key, "patient_id", *reference_fields(table)}
    return [c for c in TABLES[table].columns if c not in skip]


# ---- units ---------------------------------------------------------------------------------------
def resolve_units(unit_overrides: Mapping[str, str] | None = None,
                  mrd_scale: str = "percent") -> dict[str, str]:
    """Unit of each §2.3 unit key (canonical unless overridden) plus ``mrd_scale``.

    Keys may be given as ``unit_bilirubin`` or ``bilirubin``; an unknown key or unit raises
    ``InputError`` naming the allowed ones.
    """
    units = dict(CANONICAL_UNITS)
    for key, unit in (unit_overrides or {}).items():
        k = key if key.startswith("unit_") else f"unit_{key}"
        k = k.replace("-", "_")
        if k not in UNIT_FACTORS:
            raise InputError("unit_overrides", f"{key!r} is not a unit setting (one of "
                             f"{', '.join(sorted(UNIT_FACTORS))})")
        if unit not in UNIT_FACTORS[k]:
            raise InputError("unit_overrides", f"{unit!r} is not allowed for {k} (allowed: "
                             f"{', '.join(UNIT_FACTORS[k])})")
        units[k] = unit
    if mrd_scale not in MRD_SCALES:
        raise InputError("mrd_scale", f"{mrd_scale!r} is not one of {', '.join(MRD_SCALES)}")
    units["mrd_scale"] = mrd_scale
    return units


def field_units(table: str, column: str, units: Mapping[str, str]) -> str | None:
    """The unit a field is emitted in (``@RRBALL-UNIT``), or None for unitless fields."""
    col = TABLES[table].columns[column]
    if col.unit_key is not None:
        return units[col.unit_key]
    if table == "assessments" and column in ("mrd_value", "mrd_lod"):
        return units["mrd_scale"]
    fixed = FIXED_UNITS.get(column)
    return fixed[0] if fixed else None


def _to_canonical(unit_key: str, unit: str, x: float) -> float:
    """Value in ``unit`` -> canonical, exactly as the validator converts it."""
    if unit_key == "unit_temperature" and unit == "F":
        return (x - 32.0) * 5.0 / 9.0
    if unit_key == "mrd_scale":
        return x / 100.0 if unit == "percent" else (10.0 ** x if unit == "log10" else x)
    return x * UNIT_FACTORS[unit_key][unit]


def _from_canonical(unit_key: str, unit: str, x: float) -> float:
    if unit_key == "unit_temperature" and unit == "F":
        return x * 9.0 / 5.0 + 32.0
    if unit_key == "mrd_scale":
        if unit == "percent":
            return x * 100.0
        return math.log10(x) if unit == "log10" and x > 0 else x
    return x / UNIT_FACTORS[unit_key][unit]


def _num_text(x: float) -> str:
    """Short decimal text: integral values without ``.0``, else at most 10 significant digits."""
    if x == 0:
        return "0"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".10g")


def from_unit_text(text: str, unit_key: str, unit: str) -> str:
    """A canonical value (text) written in ``unit`` so that reading it back gives the same float.

    The plain product is tried first, then a decimal shift and its float neighbours, so the
    REDCap round trip of e.g. MRD fractions written as percent is exact.
    """
    if unit == (CANONICAL_UNITS.get(unit_key) or "fraction") or text == "":
        return text
    x = float(text)
    if unit_key == "mrd_scale" and unit == "log10" and x <= 0:
        return text  # log10 cannot encode 0; the validator refuses it, as for any import
    y = _from_canonical(unit_key, unit, x)
    candidates: list[float] = [y]
    if unit_key == "mrd_scale" and unit == "percent":
        candidates.insert(0, float(Decimal(text).scaleb(2)))
    for base in list(candidates):
        up = down = base
        for _ in range(3):
            up, down = float(np.nextafter(up, np.inf)), float(np.nextafter(down, -np.inf))
            candidates += [up, down]
    for digits in range(1, 18):  # the shortest decimal text that reads back exactly
        short = format(y, f".{digits}g")
        if _to_canonical(unit_key, unit, float(short)) == x:
            return _plain(short)
    for c in candidates:
        if _to_canonical(unit_key, unit, float(repr(c))) == x:
            return repr(c)
    return repr(y)


def _plain(text: str) -> str:
    """``1e+02`` -> ``100`` (REDCap number validation refuses exponents)."""
    if "e" not in text:
        return text
    return format(Decimal(text), "f")


def _range_text(col: Column, table: str, units: Mapping[str, str]) -> tuple[str, str]:
    """Text validation min/max from the column range, in the field's unit (§7 table)."""
    if table == "assessments" and col.name in ("mrd_value", "mrd_lod"):
        hi = 1.0 if col.name == "mrd_value" else 0.1
        scale = units["mrd_scale"]
        if scale == "percent":
            return "0", _num_text(hi * 100)
        if scale == "fraction":
            return "0", _num_text(hi)
        return "", _num_text(round(math.log10(hi), 10))
    if col.lo is None or col.hi is None:
        return "", ""
    lo, hi = col.lo, col.hi  # an open lower bound (> 0) is given as 0: REDCap's min is closed
    if col.unit_key is not None:
        unit = units[col.unit_key]
        lo = _from_canonical(col.unit_key, unit, lo)
        hi = _from_canonical(col.unit_key, unit, hi) if hi < 1e299 else hi
    return _num_text(lo), "" if hi >= 1e299 else _num_text(hi)


# ---- branching logic and sections ----------------------------------------------------------------
def _eq(field: str, *codes: str) -> str:
    return " or ".join(f"[{field}] = '{c}'" for c in codes)


_AE_TERMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("fever_masked", "hypotension", "n_vasopressors_excl_vasopressin",
                     "vasopressin", "oxygen_device", "o2_flow_l_min"), ("1",)),
    "temp_max_c": ("1", "9"),
    **dict.fromkeys(("ice_score", "capd_score", "consciousness", "seizure",
                     "deep_focal_motor_weakness", "raised_icp"), ("2",)),
    **dict.fromkeys(("alt", "alt_uln", "alt_baseline"), ("4",)),
    **dict.fromkeys(("ast", "ast_uln", "ast_baseline"), ("5",)),
    **dict.fromkeys(("bilirubin", "bilirubin_uln", "bilirubin_baseline"), ("3", "6")),
    "anc": ("7", "9"), "anc_lln": ("7", "9"), "plt": ("8",), "plt_lln": ("8",),
    **dict.fromkeys(("fever_sustained_1h", "life_threatening"), ("9",)),
    **dict.fromkeys(("weight_kg", "baseline_weight_kg", "hepatomegaly", "hepatomegaly_painful",
                     "hepatomegaly_imaging", "ruq_pain", "ascites", "ascites_imaging",
                     "weight_gain_3d_despite_diuretics", "plt_transfusion_refractory",
                     "refractory_thrombocytopenia_days", "creatinine", "creatinine_baseline",
                     "egfr", "coagulation", "new_cognitive_impairment", "doppler_sos_findings",
                     "hvpg_mmhg", "histology_proven"), ("3",)),
}
_TKI_DRUGS = ("12", "13", "14", "15", "16")
BRANCHING: Mapping[str, str] = {
    "patients.first_cr_date": _eq("pt_primary_refractory", "0"),
    "treatment_lines.regimen_detail": _eq("ln_regimen", "10", "11", "20", "25"),
    "treatment_lines.remission_number_at_start": _eq("ln_disease_status_at_start", "3", "6"),
    "treatment_lines.reported_best_response_date": "[ln_reported_best_response] <> ''",
    "assessments.mrd_value": _eq("as_mrd_detected", "1"),
    "assessments.mrd_unit": "[as_mrd_detected] <> ''",
    "assessments.mrd_method": "[as_mrd_detected] <> ''",
    "assessments.mrd_sample": "[as_mrd_detected] <> ''",
    "transplants.donor_type": _eq("tx_hsct_type", "1"),
    "follow_up.relapse_sites": _eq("fu_event_type", "1"),
    "follow_up.death_cause": _eq("fu_event_type", "2"),
    "follow_up.vital_status": _eq("fu_event_type", "3"),
    "adverse_events.ae_term_other": _eq("ae_term", "12"),
    "adverse_events.reported_grade_scale": "[ae_reported_grade] <> ''",
    "administrations.drug_other": _eq("ad_drug", "19"),
    "administrations.end_date": _eq("ad_route", "1") + " or " + _eq("ad_drug", *_TKI_DRUGS),
    **{f"adverse_events.{c}": _eq("ae_term", *t) for c, t in _AE_TERMS.items()},
}
"""Branching logic of the C columns whose condition lies in the same instrument (§7), and of the
AE measurement groups (§7 names ``[ae_term] = '1'`` for the CRS fields). Conditions across
instruments (``tki`` needs ``ph_status = 1``; ``first_relapse_date`` a line with a relapse) or on
something that is not a field (``weight_kg`` for a dose check; the one-of rules R-ASM-001,
R-XF-001) stay without branching: REDCap cannot show or hide them correctly in every design;
their condition is in the Field Note instead."""

CONDITION_NOTES: Mapping[str, str] = {
    "patients.centre_id": "Required unless the record's data access group is the centre",
    "patients.birth_date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "patients.age_at_diagnosis_years": "years; required when no birth date is given",
    "patients.first_relapse_date": "YYYY, YYYY-MM or YYYY-MM-DD; required if any line starts "
    "after a relapse",
    "treatment_lines.tki": "Required when the patient is Ph-positive",
    "treatment_lines.weight_kg": "kg; required on the index line of a dose check",
    "treatment_lines.height_cm": "cm; required on the index line of a dose check",
    "assessments.mrd_detected": "Required when any MRD item is given",
}
SECTIONS: Mapping[str, str] = {
    "patients.diagnosis_date": "Diagnosis and genetics",
    "patients.frontline_protocol": "Frontline therapy and remission",
    "treatment_lines.salvage_number": "Disease status at start",
    "treatment_lines.prior_allo_hsct": "Prior exposures",
    "treatment_lines.weight_kg": "Body size and antigens",
    "treatment_lines.n_cycles": "Course and response",
    "assessments.bm_blast_pct": "Bone marrow and blood",
    "assessments.emd": "Extramedullary disease",
    "assessments.mrd_detected": "MRD",
    "transplants.donor_type": "Donor, graft and conditioning",
    "transplants.engraftment_date": "Engraftment and GVHD",
    "adverse_events.outcome": "Outcome and management",
    "adverse_events.temp_max_c": "CRS (ASTCT 2019)",
    "adverse_events.ice_score": "ICANS (ASTCT 2019)",
    "adverse_events.alt": "Liver and blood tests (CTCAE v5)",
    "adverse_events.weight_kg": "SOS/VOD (EBMT, Baltimore, modified Seattle)",
}
_REF_LABELS = {
    "line_id": ("Treatment line (instance number)",
                "Instance number of this record's treatment_line form"),
    "hsct_id": ("Reference HSCT (instance number)",
                "Instance number of this record's transplant form"),
    "ae_id": ("Episode number",
              "Observation rows of one AE episode share this number"),
}


# ---- the dictionary ------------------------------------------------------------------------------
def _row(**kw: str) -> list[str]:
    keys = ("name", "form", "section", "type", "label", "choices", "note", "validation", "min",
            "max", "identifier", "branching", "required", "align", "question", "matrix",
            "ranking", "annotation")
    return [kw.get(k, "") for k in keys]


def _choices_text(labels: Mapping[str, str]) -> str:
    return " | ".join(f"{raw}, {label}" for raw, label in labels.items())


def _field_rows(table: str, units: Mapping[str, str]) -> list[list[str]]:
    inst = INSTRUMENTS[table]
    spec = TABLES[table]
    refs = reference_fields(table)
    rows: list[list[str]] = []
    if table == "patients":
        rows.append(_row(name=RECORD_ID, form=inst.form, type="text", label="Study ID",
                         required="y"))
    for name, col in spec.columns.items():
        if name in (spec.key, "patient_id"):
            continue
        if name in refs:
            label, note = _REF_LABELS[name]
            rows.append(_row(name=refs[name], form=inst.form, type="text", label=label,
                             note=note, validation="integer", min="1",
                             required="y" if col.req == "R" else ""))
            continue
        key = f"{table}.{name}"
        fname = field_name(table, name)
        label = FIELD_LABELS.get(key, _humanise(name))
        kw: dict[str, str] = {"name": fname, "form": inst.form, "label": label,
                              "section": SECTIONS.get(key, ""),
                              "required": "y" if col.req == "R" else "",
                              "branching": BRANCHING.get(key, "")}
        notes: list[str] = []
        annotations: list[str] = []
        lst = list_of(col)
        if col.kind == "bool":
            kw["type"] = "yesno"
        elif lst is not None:
            labels = choice_labels(lst)
            kw["type"] = ("checkbox" if col.kind == "set" else
                          "radio" if len(labels) <= 6 else "dropdown")
            kw["choices"] = _choices_text(labels)
        else:
            kw["type"] = "text"
            if col.kind == "date":
                kw["validation"] = "date_ymd"
            elif col.kind == "pdate":
                notes.append("YYYY, YYYY-MM or YYYY-MM-DD")
            elif col.kind in ("int", "float"):
                kw["validation"] = "integer" if col.kind == "int" else "number"
                kw["min"], kw["max"] = _range_text(col, table, units)
            elif col.max_len:
                annotations.append(f"@CHARLIMIT={col.max_len}")
        unit = field_units(table, name, units)
        if unit is not None:
            if col.unit_key is not None:
                notes.append(_UNIT_NOTE.get(unit, unit))
            elif name in ("mrd_value", "mrd_lod"):
                notes.append(_MRD_NOTE[unit])
            else:
                notes.append(FIXED_UNITS[name][1])
            annotations.append(f"@RRBALL-UNIT={unit}")
        elif name in _PLAIN_NOTES:
            notes.append(_PLAIN_NOTES[name])
        if key in CONDITION_NOTES:
            notes = [CONDITION_NOTES[key]] if col.kind == "pdate" or unit else \
                [*notes, CONDITION_NOTES[key]]
        if col.free_text:
            notes.append("No names, dates, phone numbers or other identifiers")
        if name == "birth_date":
            kw["identifier"] = "y"
        kw["note"] = "; ".join(dict.fromkeys(notes))
        kw["annotation"] = " ".join(annotations)
        rows.append(_row(**kw))
    if table == "patients":
        rows.append(_row(name=VERSION_FIELD, form=inst.form, type="text",
                         label="rrball dictionary version",
                         annotation=f'@HIDDEN @DEFAULT="{DICTIONARY_VERSION}"'))
    return rows


def redcap_dictionary(*, unit_overrides: Mapping[str, str] | None = None,
                      mrd_scale: str = "percent") -> pd.DataFrame:
    """The REDCap data-dictionary of the cohort model (§7), one text row per field.

    Columns are REDCap's 18 (A–R, ``DICTIONARY_COLUMNS``); row 2 of the CSV is ``record_id``.
    ``unit_overrides`` maps unit keys (``unit_bilirubin`` or ``bilirubin``) to an allowed unit
    (§2.3); other measured fields use canonical units. ``mrd_scale`` (default ``percent``, to
    avoid scientific notation in forms) applies to MRD values and LODs of cell fractions.
    Invalid settings raise ``InputError``.
    """
    units = resolve_units(unit_overrides, mrd_scale)
    rows = [r for table in INSTRUMENTS for r in _field_rows(table, units)]
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS), dtype=object)


# ---- records (export) ----------------------------------------------------------------------------
def redcap_keys(tables: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """Row key each row gets in REDCap (§7): ``{id column: {old id: new id}}``.

    Instances are numbered per patient in table order (1, 2, …); AE episodes in order of first
    appearance. Keys: ``line_id``, ``assessment_id``, ``hsct_id``, ``event_id``, ``ae_obs_id``,
    ``ae_id``, ``adm_id``; ``patient_id`` is the record id and unchanged.
    """
    out: dict[str, dict[str, str]] = {}
    for table, inst in INSTRUMENTS.items():
        if not inst.repeating or table not in tables:
            continue
        df = tables[table]
        key = TABLES[table].key
        n = df.groupby("patient_id", sort=False).cumcount() + 1
        out[key] = {str(k): f"{p}-{inst.letter}{i}" for k, p, i in
                    zip(df[key], df["patient_id"], n, strict=True)}
        if table == "adverse_events":
            ep: dict[str, str] = {}
            seen: dict[str, int] = {}
            for aid, pid in zip(df["ae_id"], df["patient_id"], strict=True):
                if str(aid) not in ep:
                    seen[str(pid)] = seen.get(str(pid), 0) + 1
                    ep[str(aid)] = f"{pid}-{EPISODE_LETTER}{seen[str(pid)]}"
            out["ae_id"] = ep
    return out


def dag_name(centre_id: str) -> str:
    """REDCap's unique data-access-group name for a centre code (lower case, ``_``)."""
    return re.sub(r"[^a-z0-9]+", "_", centre_id.strip().lower()).strip("_")


def _instance_of(new_id: str) -> str:
    m = re.search(r"-[A-Z](\d+)$", new_id)
    return m.group(1) if m else ""


def _raw_code(lst: str, code: str) -> str:
    for raw, c in CODE_LISTS[lst].items():
        if c == code:
            return raw
    return code


def redcap_records(tables: Mapping[str, pd.DataFrame], dictionary: pd.DataFrame,
                   ) -> pd.DataFrame:
    """Text tables (codes, ISO dates, canonical units: ``Cohort.text_tables()``) as a REDCap
    "CSV raw data" export of a classic project with repeating instruments (§7).

    Columns: ``record_id``, ``redcap_repeat_instrument``, ``redcap_repeat_instance``,
    ``redcap_data_access_group``, then the fields of ``dictionary`` in order (checkboxes as
    ``field___code``) with ``<form>_complete`` (2) after each form. Values are raw codes and
    are written in the units the dictionary's ``@RRBALL-UNIT`` tags fix.
    """
    keys = redcap_keys(tables)
    fields = dictionary.iloc[:, 0].tolist()
    forms = dictionary.iloc[:, 1].tolist()
    ftypes = dictionary.iloc[:, 3].tolist()
    choices = dictionary.iloc[:, 5].tolist()
    annots = dictionary.iloc[:, 17].tolist()
    columns = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance",
               "redcap_data_access_group"]
    unit_of: dict[str, str] = {}
    for k, f in enumerate(fields):
        if f == RECORD_ID:
            pass
        elif ftypes[k] == "checkbox":
            columns += [f"{f}___{c.split(',')[0].strip()}" for c in choices[k].split("|")]
        else:
            columns.append(f)
        m = re.search(r"@RRBALL-UNIT=(\S+)", annots[k] or "")
        if m:
            unit_of[f] = m.group(1)
        if k + 1 == len(fields) or forms[k + 1] != forms[k]:
            columns.append(f"{forms[k]}_complete")
    present = set(columns)
    pats = tables["patients"]
    order = {pid: i for i, pid in enumerate(pats["patient_id"])}
    records: list[tuple[int, int, int, dict[str, str]]] = []
    for t_index, (table, inst) in enumerate(INSTRUMENTS.items()):
        if table not in tables:
            continue
        df = tables[table]
        refs = reference_fields(table)
        cols = [c for c in data_columns(table) if c in df.columns]
        for r_index, row in enumerate(df.to_dict("records")):
            pid = str(row["patient_id"])
            rec: dict[str, str] = {"record_id": pid, f"{inst.form}_complete": "2"}
            if inst.repeating:
                rec["redcap_repeat_instrument"] = inst.form
                rec["redcap_repeat_instance"] = _instance_of(
                    keys[TABLES[table].key][str(row[TABLES[table].key])])
            else:
                rec[VERSION_FIELD] = DICTIONARY_VERSION
                if row.get("centre_id"):
                    rec["redcap_data_access_group"] = dag_name(str(row["centre_id"]))
            for col, fld in refs.items():
                v = str(row.get(col) or "")
                if v:
                    new = keys["ae_id"][v] if col == "ae_id" else \
                        keys["line_id" if col == "line_id" else "hsct_id"].get(v, "")
                    rec[fld] = _instance_of(new) if col != "ae_id" else \
                        new.rsplit(f"-{EPISODE_LETTER}", 1)[1]
            for col in cols:
                v = str(row.get(col) or "")
                if not v:
                    continue
                spec = TABLES[table].columns[col]
                fld = field_name(table, col)
                lst = list_of(spec)
                if spec.kind == "set" and lst is not None:
                    for code in v.split(";"):
                        rec[f"{fld}___{_raw_code(lst, code)}"] = "1"
                    continue
                if lst is not None:
                    v = _raw_code(lst, v)
                elif fld in unit_of and spec.kind == "float":
                    unit_key = spec.unit_key or ("mrd_scale" if col in ("mrd_value", "mrd_lod")
                                                 else None)
                    cell_frac = col not in ("mrd_value", "mrd_lod") or str(
                        row.get("mrd_unit") or "") in ("", "fraction_of_nucleated_cells")
                    if unit_key is not None and cell_frac:
                        v = from_unit_text(v, unit_key, unit_of[fld])
                if spec.kind == "float":
                    v = _plain(v)
                rec[fld] = v
            records.append((order.get(pid, len(order)), t_index, r_index, rec))
    records.sort(key=lambda x: x[:3])
    rows = [[rec.get(c, "") for c in columns] for *_, rec in records]
    out = pd.DataFrame(rows, columns=columns, dtype=object)
    # checkbox columns of a written instrument row are 0 when unchecked (as REDCap exports them)
    for c in columns:
        if "___" in c and c in present:
            form = forms[fields.index(c.split("___")[0])]
            mine = (out["redcap_repeat_instrument"] == form) if form != "patient" else \
                (out["redcap_repeat_instrument"] == "")
            out.loc[mine & (out[c] == ""), c] = "0"
    return out


# ---- load and export (I/O through rrball.cohort.readers.redcap) ---------------------------------
def _problem_of(issue: CohortIssue) -> str:
    head, _, rest = issue.message.partition(": ")
    del head
    return rest.split(f" [{issue.rule_id}]", 1)[0]


def _restate(errors: Sequence[CohortIssue], own: Sequence[CohortIssue],
             forms: Mapping[str, str]) -> list[CohortIssue]:
    """The validator's records in REDCap terms: R-GEN-002 names the field (``pt_sex``, not
    ``sex``), and a cell the REDCap rules already reported is not reported twice."""
    from rrball.cohort.validation import make_issue

    cells = {(i.table, i.row, i.column) for i in own if i.row is not None}
    out: list[CohortIssue] = []
    for e in errors:
        if e in own:
            out.append(e)
            continue
        if e.row is not None and (e.table, e.row, e.column) in cells:
            continue
        table = forms.get(e.table)
        if e.rule_id == "R-GEN-002" and table is not None and e.column is not None \
                and e.column in TABLES[table].columns:
            e = make_issue(table=e.table, row=e.row, column=field_name(table, e.column),
                           value=e.value, rule_id=e.rule_id, severity=e.severity,
                           problem=_problem_of(e), source=e.source)
        out.append(e)
    return out


def load_redcap(paths: Sequence[str | Path] | str | Path, *, only_complete: bool = False,
                ) -> Cohort:
    """Read a REDCap export (§7) and return the validated ``Cohort`` or raise one
    ``CohortValidationError`` listing every error (REDCap rules R-RC-001…009 with the rest).

    ``paths``: ``[records.csv, dictionary.csv]`` in any order (plus an optional
    ``metadata.csv``; one next to the records is used too) or one folder holding them.
    ``only_complete=True`` keeps only forms whose ``<form>_complete`` status is 2 (a record
    whose patient form is not complete is left out with all its rows).
    """
    from rrball.cohort.cohort import validate_raw
    from rrball.cohort.readers.redcap import find_redcap_files, read_redcap

    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files = find_redcap_files([Path(p) for p in items])
    raw, pairs, issues, fatal = read_redcap(files, only_complete=only_complete)
    if fatal:
        errors = [i for i in issues if i.severity == "E"]
        raise CohortValidationError(errors, [i for i in issues if i.severity != "E"])
    forms = {i.form: t for t, i in INSTRUMENTS.items()}
    try:
        return validate_raw(raw, pairs, source=files.records.name, issues=issues)
    except CohortValidationError as exc:
        raise CohortValidationError(_restate(exc.errors, issues, forms),
                                    exc.warnings) from None


def export_redcap(text_tables: Mapping[str, pd.DataFrame], meta_pairs: Sequence[tuple[str, str]],
                  path: str | Path, *, unit_overrides: Mapping[str, str] | None = None,
                  mrd_scale: str = "percent") -> Path:
    """Write a cohort's text tables as a REDCap import (§7) into the folder ``path``:
    ``records.csv`` (CSV raw data, classic project with repeating instruments),
    ``dictionary.csv`` (the project dictionary, units as chosen) and ``metadata.csv`` (study
    settings). ``load_redcap(path)`` gives the same tables with the §7 row keys
    (``redcap_keys``)."""
    from rrball.cohort.readers.redcap import write_redcap

    dictionary = redcap_dictionary(unit_overrides=unit_overrides, mrd_scale=mrd_scale)
    records = redcap_records(text_tables, dictionary)
    target = Path(path)
    write_redcap(target, records, dictionary, list(meta_pairs))
    return target


def is_redcap_input(path_or_paths: str | Path | Sequence[str | Path]) -> bool:
    """Format inference for ``load_cohort``: two or three paths, or a folder holding a REDCap
    data dictionary and no ``patients.csv``."""
    from rrball.cohort.readers.redcap import looks_like_redcap_folder

    if isinstance(path_or_paths, (str, Path)):
        return looks_like_redcap_folder(Path(path_or_paths))
    items = list(path_or_paths)
    if len(items) == 1:
        return looks_like_redcap_folder(Path(items[0]))
    return len(items) in (2, 3)
