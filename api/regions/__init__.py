"""Administrative regions by Kemendagri code: province, city, kecamatan, kelurahan."""
