"""GET /vocabularies."""

from flask.views import MethodView

from api.rest import Blueprint
from api.vocabularies.codes import VOCABULARIES
from api.vocabularies.schemas import VocabulariesSchema

blp = Blueprint("vocabularies", __name__, url_prefix="/api/v1/vocabularies",
                description="Code lists with Indonesian and English labels")


@blp.route("")
class Vocabularies(MethodView):
    @blp.public
    @blp.response(200, VocabulariesSchema)
    @blp.doc(operationId="getVocabularies")
    def get(self):
        """Every code list (categories, statuses, violence types, …) with labels"""
        return {
            "vocabularies": {
                name: [{"code": c.value, "label_id": c.label_id, "label_en": c.label_en}
                       for c in codes]
                for name, codes in VOCABULARIES.items()
            }
        }
