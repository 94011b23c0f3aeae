"""Independent check of a provenance statement with the in-toto project's
own bindings (package `in-toto-attestation`): the JSON must parse strictly
(no unknown fields) into the in-toto Statement v1 and SLSA provenance v1
protobuf messages, and pass their validators.

usage: python3 check_provenance.py STATEMENT.json
"""
import json
import sys

from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2

document = json.load(open(sys.argv[1]))
statement = Statement.copy_from_pb(
    json_format.ParseDict(document, statement_pb2.Statement())
)
statement.validate()
if statement.pb.predicate_type != "https://slsa.dev/provenance/v1":
    sys.exit("not SLSA provenance v1")

provenance = json_format.ParseDict(document["predicate"], provenance_pb2.Provenance())
definition = provenance.build_definition
if not definition.build_type:
    sys.exit("buildDefinition.buildType is required")
if not provenance.run_details.builder.id:
    sys.exit("runDetails.builder.id is required")
for rd in list(definition.resolved_dependencies) + list(provenance.run_details.byproducts):
    ResourceDescriptor.copy_from_pb(rd).validate()
print("valid", len(statement.pb.subject), "subjects,", len(definition.resolved_dependencies), "resolved dependencies")
