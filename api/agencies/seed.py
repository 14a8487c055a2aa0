"""The agencies every installation starts with (DESIGN §5)."""

from api.vocabularies.codes import AgencyCode, Service

SEEDED_AGENCIES = (
    (AgencyCode.UPTD_PPA, "UPTD Perlindungan Perempuan dan Anak",
     [Service.PSYCHOSOCIAL_SUPPORT, Service.LEGAL_AID, Service.SAFE_SHELTER,
      Service.FAMILY_SUPPORT]),
    (AgencyCode.DINSOS, "Dinas Sosial",
     [Service.SOCIAL_ASSISTANCE, Service.FAMILY_SUPPORT, Service.SAFE_SHELTER]),
    (AgencyCode.DINKES, "Dinas Kesehatan",
     [Service.MEDICAL_EXAMINATION, Service.NUTRITION_INTERVENTION, Service.GROWTH_MONITORING,
      Service.PSYCHOSOCIAL_SUPPORT]),
    (AgencyCode.DISDIK, "Dinas Pendidikan", [Service.SCHOOL_SUPPORT]),
    (AgencyCode.DISKOP_UMKM, "Dinas Koperasi dan UMKM",
     [Service.JOB_TRAINING, Service.BUSINESS_CAPITAL]),
)


def seeded_rows() -> list[dict]:
    return [{"code": code.value, "name": name, "services": [s.value for s in services]}
            for code, name, services in SEEDED_AGENCIES]
