"""Code lists of DESIGN §5. Codes are English snake_case; labels are for people."""

import enum


class Vocabulary(enum.StrEnum):
    """A code with its Indonesian (`label_id`) and English (`label_en`) label."""

    def __new__(cls, code: str, label_id: str, label_en: str):
        member = str.__new__(cls, code)
        member._value_ = code
        member.label_id = label_id
        member.label_en = label_en
        return member


class Role(Vocabulary):
    RT_HEAD = "rt_head", "Ketua RT", "Neighbourhood (RT) head"
    TEACHER = "teacher", "Guru / wali kelas", "Teacher"
    POSYANDU_CADRE = "posyandu_cadre", "Kader posyandu", "Posyandu cadre"
    CASEWORKER = "caseworker", "Petugas UPTD PPA / DP3AKB", "Caseworker"
    SUPERVISOR = "supervisor", "Kepala UPTD PPA / DP3AKB", "Supervisor"
    AGENCY_OFFICER = "agency_officer", "Petugas dinas", "Agency officer"
    AGENCY_SYSTEM = "agency_system", "Sistem dinas", "Agency system"
    ANALYST = "analyst", "Tim evaluasi KLA", "KLA analyst"
    ADMIN = "admin", "Administrator sistem", "System administrator"


class Category(Vocabulary):
    VIOLENCE = "violence", "Kekerasan terhadap anak", "Violence against a child"
    STUNTING_RISK = "stunting_risk", "Risiko stunting", "Stunting risk"


class ViolenceType(Vocabulary):
    PHYSICAL = "physical", "Fisik", "Physical"
    PSYCHOLOGICAL = "psychological", "Psikis", "Psychological"
    SEXUAL = "sexual", "Seksual", "Sexual"
    EXPLOITATION = "exploitation", "Eksploitasi", "Exploitation"
    TRAFFICKING = "trafficking", "Tindak pidana perdagangan orang (TPPO)", "Trafficking"
    NEGLECT = "neglect", "Penelantaran", "Neglect"
    OTHER = "other", "Lainnya", "Other"


class CaseTag(Vocabulary):
    BULLYING = "bullying", "Perundungan", "Bullying"


class IncidentPlace(Vocabulary):
    HOUSEHOLD = "household", "Rumah tangga", "Household"
    PUBLIC_FACILITY = "public_facility", "Fasilitas umum", "Public facility"
    SCHOOL = "school", "Sekolah", "School"
    WORKPLACE = "workplace", "Tempat kerja", "Workplace"
    ONLINE = "online", "Daring", "Online"
    OTHER = "other", "Lainnya", "Other"


class PerpetratorRelation(Vocabulary):
    PARENT = "parent", "Orang tua", "Parent"
    RELATIVE = "relative", "Keluarga / saudara", "Relative"
    NEIGHBOUR = "neighbour", "Tetangga", "Neighbour"
    PARTNER_OR_FRIEND = "partner_or_friend", "Pacar / teman", "Partner or friend"
    TEACHER = "teacher", "Guru", "Teacher"
    EMPLOYER = "employer", "Majikan", "Employer"
    COWORKER = "coworker", "Rekan kerja", "Co-worker"
    OTHER = "other", "Lainnya", "Other"
    UNKNOWN = "unknown", "Tidak diketahui", "Unknown"


class RiskLevel(Vocabulary):
    HIGH = "high", "Tinggi", "High"
    MEDIUM = "medium", "Sedang", "Medium"
    LOW = "low", "Rendah", "Low"


class CaseStatus(Vocabulary):
    REPORTED = "reported", "Dilaporkan", "Reported"
    TRIAGED = "triaged", "Ditelaah", "Triaged"
    REFERRED = "referred", "Dirujuk", "Referred"
    IN_SERVICE = "in_service", "Dalam layanan", "In service"
    MONITORING = "monitoring", "Pemantauan", "Monitoring"
    CLOSED = "closed", "Ditutup", "Closed"


class ClosureReason(Vocabulary):
    RESOLVED = "resolved", "Selesai ditangani", "Resolved"
    UNFOUNDED = "unfounded", "Tidak terbukti", "Unfounded"
    DUPLICATE = "duplicate", "Laporan ganda", "Duplicate"
    TRANSFERRED_OUT = "transferred_out", "Dialihkan ke wilayah lain", "Transferred out"
    NOT_REACHABLE = "not_reachable", "Tidak dapat dihubungi", "Not reachable"
    WITHDRAWN = "withdrawn", "Dicabut", "Withdrawn"


class Source(Vocabulary):
    COMMUNITY = "community", "Masyarakat (Ketua RT)", "Community (RT head)"
    SCHOOL = "school", "Sekolah", "School"
    POSYANDU = "posyandu", "Posyandu", "Posyandu"
    HOTLINE = "hotline", "Layanan pengaduan (hotline)", "Hotline"
    WALK_IN = "walk_in", "Datang langsung", "Walk-in"
    OUTREACH = "outreach", "Penjangkauan", "Outreach"
    REFERRAL_IN = "referral_in", "Rujukan masuk", "Incoming referral"


class Sex(Vocabulary):
    MALE = "male", "Laki-laki", "Male"
    FEMALE = "female", "Perempuan", "Female"


class SocialProgramme(Vocabulary):
    PKH = "pkh", "Program Keluarga Harapan (PKH)", "Family Hope Programme (PKH)"
    BPNT = "bpnt", "Bantuan Pangan Non Tunai (BPNT)", "Non-cash food assistance (BPNT)"
    PBI_JK = "pbi_jk", "Penerima Bantuan Iuran JKN (PBI-JK)", "Subsidised health insurance"
    PIP = "pip", "Program Indonesia Pintar (PIP)", "Smart Indonesia Programme (PIP)"
    OTHER = "other", "Lainnya", "Other"


class EconomicStressor(Vocabulary):
    UNEMPLOYMENT = "unemployment", "Orang tua menganggur", "Unemployed parent"
    NO_INCOME = "no_income", "Tidak ada penghasilan", "No income"
    DEBT = "debt", "Terlilit utang", "Debt"
    HOUSING = "housing", "Masalah tempat tinggal", "Housing problem"
    OTHER = "other", "Lainnya", "Other"


class AgencyCode(Vocabulary):
    UPTD_PPA = "UPTD_PPA", "UPTD Perlindungan Perempuan dan Anak", "Women and child protection unit"
    DINSOS = "DINSOS", "Dinas Sosial", "Social affairs office"
    DINKES = "DINKES", "Dinas Kesehatan", "Health office"
    DISDIK = "DISDIK", "Dinas Pendidikan", "Education office"
    DISKOP_UMKM = "DISKOP_UMKM", "Dinas Koperasi dan UMKM", "Cooperatives and SME office"


class RegionLevel(Vocabulary):
    PROVINCE = "province", "Provinsi", "Province"
    CITY = "city", "Kabupaten / kota", "Regency / city"
    DISTRICT = "district", "Kecamatan", "District (kecamatan)"
    VILLAGE = "village", "Kelurahan / desa", "Village (kelurahan / desa)"


VOCABULARIES: dict[str, type[Vocabulary]] = {
    "role": Role,
    "category": Category,
    "violence_types": ViolenceType,
    "case_tags": CaseTag,
    "incident_place": IncidentPlace,
    "perpetrator_relation": PerpetratorRelation,
    "risk_level": RiskLevel,
    "case_status": CaseStatus,
    "closure_reason": ClosureReason,
    "source": Source,
    "sex": Sex,
    "receives": SocialProgramme,
    "economic_stressors": EconomicStressor,
    "agency": AgencyCode,
    "region_level": RegionLevel,
}


class Service(Vocabulary):
    PSYCHOSOCIAL_SUPPORT = (
        "psychosocial_support", "Pendampingan psikososial", "Psychosocial support"
    )
    LEGAL_AID = "legal_aid", "Pendampingan hukum", "Legal aid"
    SAFE_SHELTER = "safe_shelter", "Rumah aman", "Safe shelter"
    MEDICAL_EXAMINATION = "medical_examination", "Pemeriksaan medis / visum", "Medical examination"
    NUTRITION_INTERVENTION = "nutrition_intervention", "Intervensi gizi", "Nutrition intervention"
    GROWTH_MONITORING = "growth_monitoring", "Pemantauan pertumbuhan", "Growth monitoring"
    SOCIAL_ASSISTANCE = (
        "social_assistance", "Bantuan sosial (PKH/BPNT/PBI-JK, pendaftaran DTSEN)",
        "Social assistance (PKH/BPNT/PBI-JK, DTSEN registration)",
    )
    FAMILY_SUPPORT = "family_support", "Pendampingan keluarga", "Family support"
    SCHOOL_SUPPORT = (
        "school_support", "Dukungan sekolah (kembali sekolah, konseling, PIP)",
        "School support (return to school, counselling, PIP)",
    )
    JOB_TRAINING = "job_training", "Pelatihan kerja", "Job training"
    BUSINESS_CAPITAL = "business_capital", "Bantuan modal usaha", "Business capital"


class ReferralStatus(Vocabulary):
    PENDING = "pending", "Menunggu", "Pending"
    ACCEPTED = "accepted", "Diterima", "Accepted"
    DECLINED = "declined", "Ditolak", "Declined"
    IN_PROGRESS = "in_progress", "Sedang ditangani", "In progress"
    COMPLETED = "completed", "Selesai", "Completed"
    CANCELLED = "cancelled", "Dibatalkan", "Cancelled"


VOCABULARIES["service"] = Service
VOCABULARIES["referral_status"] = ReferralStatus


class HazCategory(Vocabulary):
    """Length/height-for-age, Permenkes 2/2020 (TB/U)."""

    SEVERELY_STUNTED = "severely_stunted", "Sangat pendek", "Severely stunted"
    STUNTED = "stunted", "Pendek", "Stunted"
    NORMAL = "normal", "Normal", "Normal"
    TALL = "tall", "Tinggi", "Tall"


class WazCategory(Vocabulary):
    """Weight-for-age, Permenkes 2/2020 (BB/U)."""

    SEVERELY_UNDERWEIGHT = ("severely_underweight", "Berat badan sangat kurang",
                            "Severely underweight")
    UNDERWEIGHT = "underweight", "Berat badan kurang", "Underweight"
    NORMAL = "normal", "Berat badan normal", "Normal"
    RISK_OF_OVERWEIGHT = ("risk_of_overweight", "Risiko berat badan lebih",
                          "Risk of overweight")


class WhzCategory(Vocabulary):
    """Weight-for-length/height, Permenkes 2/2020 (BB/PB, BB/TB)."""

    SEVERELY_WASTED = "severely_wasted", "Gizi buruk", "Severely wasted"
    WASTED = "wasted", "Gizi kurang", "Wasted"
    NORMAL = "normal", "Gizi baik (normal)", "Normal"
    POSSIBLE_RISK_OF_OVERWEIGHT = ("possible_risk_of_overweight", "Berisiko gizi lebih",
                                   "Possible risk of overweight")
    OVERWEIGHT = "overweight", "Gizi lebih", "Overweight"
    OBESE = "obese", "Obesitas", "Obese"


class Position(Vocabulary):
    """How a child was measured: lying gives length, standing gives height."""

    LYING = "lying", "Telentang (panjang badan)", "Lying (length)"
    STANDING = "standing", "Berdiri (tinggi badan)", "Standing (height)"


VOCABULARIES["haz_category"] = HazCategory
VOCABULARIES["waz_category"] = WazCategory
VOCABULARIES["whz_category"] = WhzCategory
VOCABULARIES["measurement_position"] = Position
