"""The vocabulary payload."""

import marshmallow as ma


class VocabularyEntrySchema(ma.Schema):
    code = ma.fields.String()
    label_id = ma.fields.String(metadata={"description": "Indonesian label"})
    label_en = ma.fields.String(metadata={"description": "English label"})


class VocabulariesSchema(ma.Schema):
    """Every code list of the API, by name."""

    vocabularies = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Nested(VocabularyEntrySchema)),
    )
