"""The cohort model of data-dictionary.md, declared once (§1, §2).

Code lists (§2.2), metadata keys (§2.3), tables and columns (§2.5–§2.11) with their types, units,
requirement level and range rule ids. Every importer and every rule reads these declarations;
nothing here does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CODE_LISTS",
    "DIRECT_IDENTIFIERS",
    "FREE_TEXT_COLUMNS",
    "ID_PATTERN",
    "METADATA_KEYS",
    "SCHEMA_VERSION",
    "TABLES",
    "TABLE_ORDER",
    "UNIT_FACTORS",
    "Column",
    "MetaKey",
    "Table",
    "code_of",
    "normalise_name",
]

SCHEMA_VERSION = "1.0"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

# ---- §2.2 code lists: raw value -> string code -------------------------------------------------
_LISTS_TEXT = """
yn: 1=yes 0=no
tri: 1=yes 0=no 9=unknown
sex: 1=male 2=female 9=unknown
ph_status: 0=negative 1=positive 9=unknown
bcr_abl1_isoform: 1=p190 2=p210 3=other 9=unknown
kmt2a_status: 0=not_rearranged 1=rearranged 9=unknown
ikzf1_status: 0=not_deleted 1=deleted 2=ikzf1_plus 9=unknown
cytogenetic_risk: 1=standard 2=high 9=unknown
cns_status: 1=cns1 2=cns2 3=cns3 9=unknown
regimen: 1=blinatumomab_rr_us 2=blinatumomab_mrd_us 3=blinatumomab_seed000 4=inotuzumab_us \
5=inotuzumab_seed000 6=inotuzumab_seed004_peds 7=mini_hcvd_ino 8=mini_hcvd_ino_blina \
10=blinatumomab_other 11=inotuzumab_other 20=chemotherapy_other 21=car_t 22=tki_only 23=dli \
24=local_radiotherapy 25=other 99=unknown
disease_status_at_start: 1=primary_refractory 2=haematological_relapse 3=mrd_positive \
4=isolated_emd_relapse 5=refractory_relapse 6=cr_mrd_negative 9=unknown
remission_number: 0=not_in_cr 1=cr1 2=cr2 3=cr3plus
tki: 0=none 1=dasatinib 2=imatinib 3=nilotinib 4=bosutinib 5=ponatinib 8=other 9=unknown
line_end_reason: 0=ongoing 1=completed_as_planned 2=refractory_or_progression 3=relapse \
4=toxicity 5=proceed_to_hsct 6=death 7=patient_or_physician_choice 8=other 9=unknown
emd: 0=none 1=present 2=new 3=resolved 9=unknown
emd_site: 1=cns 2=testis 3=lymph_node 4=skin_soft_tissue 5=breast 6=orbit_eye 7=mediastinum \
8=bone 10=other
emd_method: 1=clinical_exam 2=ct_mri_us 3=pet_ct 4=biopsy 5=csf_cytology 9=unknown
mrd_method: 1=flow 2=ig_tr_pcr 3=fusion_qpcr 4=ngs
mrd_unit: 1=fraction_of_nucleated_cells 2=transcript_ratio_pct 3=copies
mrd_sample: 1=bm 2=pb
assessment_reason: 1=baseline 2=response 3=follow_up 4=pre_hsct 5=post_hsct \
6=suspected_relapse 9=unknown
reported_response: 1=cr 2=crh 3=cri 4=crp 5=pr 6=no_response 7=pd 8=relapse 9=not_evaluable
hsct_type: 1=allogeneic 2=autologous
donor_type: 1=matched_related 2=matched_unrelated 3=mismatched_unrelated 4=haploidentical \
5=cord_blood 8=other 9=unknown
stem_cell_source: 1=bone_marrow 2=peripheral_blood 3=cord_blood 9=unknown
conditioning_intensity: 1=mac 2=ric 3=nma 9=unknown
status_at_hsct: 1=cr1 2=cr2 3=cr3plus 4=active_disease 9=unknown
cgvhd: 0=none 1=mild 2=moderate 3=severe 9=unknown
event_type: 1=relapse 2=death 3=last_contact
relapse_site: 1=bone_marrow 2=cns 3=testis 4=other_emd 5=molecular
relapse_confirmation: 1=morphology 2=flow 3=molecular 4=imaging 5=biopsy 6=csf 9=unknown
death_cause: 1=leukaemia 2=infection 3=gvhd 4=sos_vod 5=crs 6=neurotoxicity 7=haemorrhage \
8=other_treatment_related 10=second_malignancy 11=other 99=unknown
vital_status: 1=alive 2=dead
status_at_last_contact: 1=in_remission 2=relapsed_or_active_disease 9=unknown
ae_term: 1=crs 2=icans 3=sos_vod 4=alt_increased 5=ast_increased 6=bilirubin_increased \
7=neutrophil_count_decreased 8=platelet_count_decreased 9=febrile_neutropenia 10=infection \
11=infusion_reaction 12=other
grade_scale: 1=astct_2019 2=ctcae_v5 3=ctcae_v4 4=modified_seattle 5=baltimore \
6=ebmt_adult_2016 7=ebmt_ped_2018 8=ebmt_adult_2023 10=other 99=unknown
ae_outcome: 1=resolved 2=resolved_with_sequelae 3=ongoing 4=fatal 9=unknown
ae_action: 0=none 1=interrupted 2=dose_reduced 3=discontinued 9=unknown
oxygen_device: 0=none 1=low_flow_nc 2=blow_by 3=high_flow_nc 4=facemask 5=non_rebreather \
6=venturi 7=cpap 8=bipap 10=mechanical_ventilation 99=unknown
consciousness: 0=alert 1=awakens_spontaneously 2=awakens_to_voice 3=awakens_to_tactile \
4=unarousable 9=unknown
seizure: 0=none 1=rapidly_resolving_or_eeg_resolving 2=prolonged_gt5min_or_repetitive 9=unknown
raised_icp: 0=none 1=focal_oedema \
2=diffuse_oedema_or_posturing_or_cn6_or_papilloedema_or_cushing 9=unknown
ascites: 0=none 1=minimal 2=moderate 3=paracentesis_needed 9=unknown
coagulation: 0=normal 1=impaired 2=impaired_needs_factor_replacement 9=unknown
drug: 1=blinatumomab 2=inotuzumab_ozogamicin 3=cyclophosphamide 4=vincristine 5=dexamethasone \
6=methotrexate 7=cytarabine 8=rituximab 9=intrathecal_chemotherapy 10=prednisone \
11=mercaptopurine 12=dasatinib 13=imatinib 14=nilotinib 15=bosutinib 16=ponatinib \
17=tocilizumab 18=defibrotide 19=other
dose_unit: 1=mcg_per_day 2=mcg_per_m2_per_day 3=mg 4=mg_per_m2 5=g_per_m2 6=mg_per_kg 7=mg_per_day
route: 1=iv_continuous 2=iv_infusion 3=iv_push 4=oral 5=intrathecal 6=subcutaneous 8=other
"""


def _parse_lists(text: str) -> dict[str, Mapping[str, str]]:
    out: dict[str, Mapping[str, str]] = {}
    for line in text.replace("\\\n", "").strip().splitlines():
        name, rest = line.split(":", 1)
        pairs = (item.split("=", 1) for item in rest.split())
        out[name.strip()] = MappingProxyType({raw: code for raw, code in pairs})
    return out


CODE_LISTS: Mapping[str, Mapping[str, str]] = MappingProxyType(_parse_lists(_LISTS_TEXT))


def code_of(list_name: str, value: str) -> str | None:
    """The string code for a raw value or code (case-insensitive), None if not in the list."""
    codes = CODE_LISTS[list_name]
    v = value.strip().lower()
    if v in codes:
        return codes[v]
    if v.endswith(".0") and v[:-2] in codes:
        return codes[v[:-2]]
    return v if v in codes.values() else None


# ---- columns -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Column:
    """One column of §2.5–§2.11.

    ``kind``: str, int, float, date, pdate, bool, tri, enum, set. ``req``: R, C or O (§0).
    ``lo``/``hi`` with ``range_rule`` are the error range (after unit conversion); ``warn_lo`` /
    ``warn_hi`` the warning range. ``unit_key`` names the metadata unit key (§2.3).
    """

    name: str
    kind: str
    req: str = "O"
    codes: str | None = None
    lo: float | None = None
    hi: float | None = None
    range_rule: str | None = None
    warn_lo: float | None = None
    warn_hi: float | None = None
    unit_key: str | None = None
    pattern: str | None = None
    max_len: int | None = None
    free_text: bool = False
    lo_open: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """One table of §1: its columns, primary key and whether the file must contain it."""

    name: str
    key: str
    columns: Mapping[str, Column]
    required: bool


def _c(spec: str) -> Column:
    """Parse ``name kind[:codes] req [lo..hi RULE] [w:lo..hi] [u:key] [pat:RULE] [len:n] [ft]``."""
    parts = spec.split()
    name, kind, req = parts[0], parts[1], parts[2]
    codes = None
    if ":" in kind:
        kind, codes = kind.split(":")
    elif kind in ("enum", "set"):
        codes = name
    elif kind == "tri":
        codes = "tri"
    kw: dict[str, object] = {}
    it = iter(parts[3:])
    for tok in it:
        if ".." in tok and not tok.startswith("w:"):
            lo, hi = tok.split("..")
            if lo.startswith(">"):
                kw["lo_open"] = True
                lo = lo[1:]
            kw["lo"], kw["hi"] = float(lo), float(hi)
            kw["range_rule"] = next(it)
        elif tok.startswith("w:"):
            lo, hi = tok[2:].split("..")
            kw["warn_lo"], kw["warn_hi"] = float(lo), float(hi)
        elif tok.startswith("u:"):
            kw["unit_key"] = tok[2:]
        elif tok.startswith("pat:"):
            kw["pattern"] = tok[4:]
        elif tok.startswith("len:"):
            kw["max_len"] = int(tok[4:])
        elif tok == "ft":
            kw["free_text"] = True
        else:  # pragma: no cover - declaration typo
            raise ValueError(f"bad column spec token {tok!r} in {spec!r}")
    return Column(name, kind, req, codes, **kw)  # type: ignore[arg-type]


_BIG = "1e300"
_TABLES_TEXT: dict[str, tuple[str, bool, str]] = {
    "patients": ("patient_id", True, """
patient_id str R pat:R-PAT-001
centre_id str C pat:R-PAT-002
sex enum R
birth_date pdate C
age_at_diagnosis_years float C 0..120 R-PAT-004
diagnosis_date pdate R
ph_status enum R
bcr_abl1_isoform enum O
ph_like tri O
kmt2a_status enum R
kmt2a_partner str O pat:R-PAT-006 ft
ikzf1_status enum O
cytogenetic_risk enum O
complex_karyotype tri O
cns_status_at_diagnosis enum:cns_status O
wbc_at_diagnosis float O 0..2000 R-PAT-007 u:unit_wbc
frontline_protocol str O len:40 ft
primary_refractory tri R
first_cr_date pdate C
first_relapse_date pdate C
"""),
    "treatment_lines": ("line_id", True, """
line_id str R pat:R-KEY-002
patient_id str R
line_start_date date R
index_line bool:yn R
regimen enum R
regimen_detail str C len:80 ft
salvage_number int R 0..20 R-LIN-002
relapse_number int R 0..20 R-LIN-003
disease_status_at_start enum R
remission_number_at_start enum:remission_number C
emd_at_start tri O
emd_sites_at_start set:emd_site O
cns_status_at_start enum:cns_status O
prior_allo_hsct tri R
n_prior_allo_hsct int O 0..5 R-LIN-004
prior_blinatumomab tri R
prior_inotuzumab tri O
prior_car_t tri O
n_prior_lines int O 0..20 R-LIN-005
weight_kg float C 1..300 R-LIN-006 w:3..200
height_cm float C 40..250 R-LIN-007 w:50..220
body_measure_date date O
tki enum C
cd19_pct float O 0..100 R-LIN-009
cd22_pct float O 0..100 R-LIN-009
cd20_pct float O 0..100 R-LIN-009
cytoreduction_prephase tri O
n_cycles int O 0..12 R-LIN-010
line_end_date date O
line_end_reason enum O
reported_best_response enum:reported_response O
reported_best_response_date date C
"""),
    "assessments": ("assessment_id", False, """
assessment_id str R pat:R-KEY-003
patient_id str R
line_id str O
assessment_date date R
assessment_reason enum O
bm_blast_pct float C 0..100 R-ASM-002
bm_sample_adequate tri O
pb_blasts tri C
pb_blast_abs float O 0..1000 R-ASM-003 u:unit_pb_blast_abs
wbc float O 0..2000 R-ASM-004 u:unit_wbc
anc float O 0..100 R-ASM-005 u:unit_anc
plt float O 0..2000 R-ASM-006 u:unit_plt
plt_transfusion_independent tri O
emd enum C
emd_sites set:emd_site O
emd_method enum O
cns_status enum O
mrd_detected tri C
mrd_value float C
mrd_unit enum C
mrd_method enum C
mrd_lod float O
mrd_sample enum C
mrd_marker str O len:40 ft
reported_response enum O
"""),
    "transplants": ("hsct_id", False, """
hsct_id str R pat:R-KEY-004
patient_id str R
line_id str O
hsct_date pdate R
hsct_type enum R
hsct_number int O 1..5 R-HCT-002
donor_type enum C
stem_cell_source enum O
conditioning_intensity enum O
conditioning_regimen str O len:80 ft
tbi tri O
ptcy tri O
reported_status_at_hsct enum:status_at_hsct O
engraftment_date date O
agvhd_max_grade int O 0..4 R-HCT-003
cgvhd enum O
"""),
    "follow_up": ("event_id", True, """
event_id str R pat:R-KEY-005
patient_id str R
line_id str O
event_type enum R
event_date date R
relapse_sites set:relapse_site C
relapse_confirmation enum O
death_cause enum C
vital_status enum C
status_at_last_contact enum O
"""),
    "adverse_events": ("ae_obs_id", False, """
ae_obs_id str R pat:R-KEY-006
ae_id str R
patient_id str R
line_id str R
hsct_id str O
ae_term enum R
ae_term_other str C len:80 ft
onset_date date R
obs_date date R
resolution_date date O
outcome enum:ae_outcome O
reported_grade int O 0..5 R-AE-002
reported_grade_scale enum:grade_scale C
serious tri O
related_to_line tri O
action_taken enum:ae_action O
tocilizumab tri O
corticosteroids tri O
defibrotide tri O
temp_max_c float O 30..45 R-AE-004 u:unit_temperature
fever_masked tri O
hypotension tri O
n_vasopressors_excl_vasopressin int O 0..5 R-AE-005
vasopressin tri O
oxygen_device enum O
o2_flow_l_min float O 0..80 R-AE-006
ice_score int O 0..10 R-AE-007
capd_score int O 0..32 R-AE-008
consciousness enum O
seizure enum O
deep_focal_motor_weakness tri O
raised_icp enum O
alt float O 0..20000 R-AE-009 u:unit_enzymes
ast float O 0..20000 R-AE-009 u:unit_enzymes
alt_uln float O 5..200 R-AE-010 u:unit_enzymes
ast_uln float O 5..200 R-AE-010 u:unit_enzymes
alt_baseline float O 0..20000 R-AE-009 u:unit_enzymes
ast_baseline float O 0..20000 R-AE-009 u:unit_enzymes
bilirubin float O 0..60 R-AE-011 u:unit_bilirubin
bilirubin_uln float O 0.3..3 R-AE-012 u:unit_bilirubin
bilirubin_baseline float O 0..60 R-AE-011 u:unit_bilirubin
anc float O 0..100 R-AE-013 u:unit_anc
plt float O 0..2000 R-AE-014 u:unit_plt
anc_lln float O >0..1e300 R-AE-015
plt_lln float O >0..1e300 R-AE-015
fever_sustained_1h tri O
life_threatening tri O
weight_kg float O 1..300 R-AE-016
baseline_weight_kg float O 1..300 R-AE-016
hepatomegaly tri O
hepatomegaly_painful tri O
hepatomegaly_imaging tri O
ruq_pain tri O
ascites enum O
ascites_imaging tri O
weight_gain_3d_despite_diuretics tri O
plt_transfusion_refractory tri O
refractory_thrombocytopenia_days int O 0..365 R-AE-018
creatinine float O 0..20 R-AE-019 u:unit_creatinine
creatinine_baseline float O 0..20 R-AE-019 u:unit_creatinine
egfr float O 0..200 R-AE-020
coagulation enum O
new_cognitive_impairment tri O
doppler_sos_findings tri O
hvpg_mmhg float O 0..40 R-AE-021
histology_proven tri O
"""),
    "administrations": ("adm_id", False, """
adm_id str R pat:R-KEY-010
patient_id str R
line_id str R
drug enum R
drug_other str C len:60 ft
start_date date R
end_date date C
cycle int O 1..30 R-ADM-001
cycle_day int O 1..84 R-ADM-002
dose_value float R >0..1e300 R-ADM-003
dose_unit enum R
route enum O
bsa_m2 float O 0.1..3.5 R-ADM-004
interrupted tri O
"""),
}
del _BIG

TABLE_ORDER: tuple[str, ...] = (
    "patients",
    "treatment_lines",
    "assessments",
    "transplants",
    "follow_up",
    "adverse_events",
    "administrations",
)


def _build_tables() -> dict[str, Table]:
    out: dict[str, Table] = {}
    for name, (key, required, text) in _TABLES_TEXT.items():
        cols = [_c(line) for line in text.strip().splitlines()]
        out[name] = Table(name, key, MappingProxyType({c.name: c for c in cols}), required)
    return out


TABLES: Mapping[str, Table] = MappingProxyType(_build_tables())

FREE_TEXT_COLUMNS: frozenset[str] = frozenset(
    c.name for t in TABLES.values() for c in t.columns.values() if c.free_text
) | {"cytogenetic_risk_definition"}

# ---- §2.3 units ---------------------------------------------------------------------------------
# unit key -> {declared unit: multiplicative factor to the canonical unit}; temperature is affine.
UNIT_FACTORS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "unit_anc": {"10^9/L": 1.0, "/uL": 1e-3, "10^3/uL": 1.0},
        "unit_plt": {"10^9/L": 1.0, "/uL": 1e-3, "10^3/uL": 1.0},
        "unit_wbc": {"10^9/L": 1.0, "/uL": 1e-3, "10^3/uL": 1.0},
        "unit_pb_blast_abs": {"10^9/L": 1.0, "/uL": 1e-3, "10^3/uL": 1.0},
        "unit_bilirubin": {"mg/dL": 1.0, "umol/L": 1 / 17.1},
        "unit_creatinine": {"mg/dL": 1.0, "umol/L": 1 / 88.42},
        "unit_enzymes": {"U/L": 1.0, "ukat/L": 60.0},
        "unit_temperature": {"C": 1.0, "F": 1.0},
        "unit_weight": {"kg": 1.0},
        "unit_height": {"cm": 1.0},
    }
)
UNIT_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {"unit_temperature": "C", "unit_weight": "kg", "unit_height": "cm"}
)
MRD_SCALES: tuple[str, ...] = ("fraction", "percent", "log10")


# ---- §2.3 metadata keys ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MetaKey:
    """One metadata key: type, allowed values, default (as text) and requirement."""

    key: str
    kind: str  # str, date, enum, bool, float, int, list, intlist
    allowed: tuple[str, ...] = ()
    default: str | None = None
    req: str = "O"
    lo: float | None = None
    hi: float | None = None


_CRITERIA = (
    "blincyto_trials", "besponsa_label", "consensus_2010", "cibmtr", "seed000",
    "mdacc_seed003", "nccn", "eln2022_aml_crh",
)
_META: tuple[MetaKey, ...] = (
    MetaKey("schema_version", "str", ("1.0",), req="R"),
    MetaKey("study_code", "str", req="R"),
    MetaKey("centre_id", "str", req="C"),
    MetaKey("export_date", "date"),
    MetaKey("date_format", "enum", ("iso", "dmy", "mdy"), "iso"),
    MetaKey("decimal_comma", "bool", default="0"),
    MetaKey("na_tokens", "list", default="NA;N/A;."),
    MetaKey("partial_event_dates", "enum", ("refuse", "impute"), "refuse"),
    *(
        MetaKey(k, "enum", tuple(v))
        for k, v in UNIT_FACTORS.items()
        if k not in ("unit_temperature", "unit_weight", "unit_height")
    ),
    MetaKey("unit_temperature", "enum", ("C", "F"), "C"),
    MetaKey("unit_weight", "enum", ("kg",), "kg"),
    MetaKey("unit_height", "enum", ("cm",), "cm"),
    MetaKey("mrd_scale", "enum", MRD_SCALES),
    *(MetaKey(k, "float", lo=0.0) for k in ("uln_alt", "uln_ast", "uln_bilirubin", "lln_anc",
                                            "lln_plt")),
    MetaKey("criteria_set", "enum", _CRITERIA, req="R"),
    MetaKey("mrd_threshold", "float", default="1e-4", lo=1e-6, hi=1e-2),
    MetaKey("mrd_method_priority", "list", default="flow;ngs;ig_tr_pcr;fusion_qpcr"),
    MetaKey("mrd_lowsens_counts_negative", "bool", default="0"),
    MetaKey("molecular_relapse_is_relapse", "bool", default="0"),
    MetaKey("response_window_days", "int", lo=14, hi=365),
    MetaKey("baseline_window_days", "int", default="30", lo=0, hi=90),
    MetaKey("index_lines_per_patient", "enum", ("one", "many"), "one"),
    MetaKey("relapse_source", "enum", ("reported", "derived", "both"), "both"),
    MetaKey("efs_failure_timing", "enum", ("t0", "assessment"), "t0"),
    MetaKey("dfs_censor_at", "enum", ("last_contact", "last_assessment"), "last_contact"),
    MetaKey("crdur_death_is_event", "bool", default="0"),
    MetaKey("censor_at_new_therapy", "bool", default="0"),
    MetaKey("censor_at_hsct", "bool", default="0"),
    MetaKey("data_cutoff_date", "date"),
    MetaKey("landmark_days", "intlist", lo=1, hi=1095),
    MetaKey("age_cut_years", "int", default="18", lo=0, hi=120),
    MetaKey("age_cut_rule", "enum", ("le", "lt"), "le"),
    MetaKey("cr1_cut_months", "float", default="12", lo=0, hi=600),
    MetaKey("cr1_cut_rule", "enum", ("ge", "gt"), "gt"),
    MetaKey("vod_criteria", "enum", ("modified_seattle", "baltimore", "ebmt_adult_2016",
                                     "ebmt_ped_2018", "ebmt_adult_2023")),
    MetaKey("bsa_formula", "enum", ("mosteller", "dubois", "haycock", "gehan_george"),
            "mosteller"),
    MetaKey("cytogenetic_risk_definition", "str"),
    MetaKey("deidentified", "bool", default="0"),
    MetaKey("date_shifted", "bool", default="0"),
    # Added by this page's §8 (synthetic cohorts): not user-settable, kept when written back.
    MetaKey("synthetic_assumptions", "str"),
)
METADATA_KEYS: Mapping[str, MetaKey] = MappingProxyType({m.key: m for m in _META})

# ---- §6 direct identifiers ---------------------------------------------------------------------
DIRECT_IDENTIFIERS: frozenset[str] = frozenset(
    {
        "name", "first_name", "last_name", "surname", "family_name", "middle_name", "patronymic",
        "fio", "initials", "full_name", "address", "street", "postcode", "zip", "phone",
        "telephone", "mobile", "fax", "email", "mrn", "medical_record_number", "hospital_number",
        "case_number",
        "chart_number", "history_number", "national_id", "ssn", "snils", "passport",
        "insurance_number", "policy_number", "nhs_number", "photo", "ip_address", "url"
    }
)


def normalise_name(name: object) -> str:
    """Header normalisation of §4: case-insensitive, trimmed, spaces and ``-`` become ``_``."""
    text = "" if name is None else str(name)
    return re.sub(r"[\s\-]+", "_", text.strip().lower())
