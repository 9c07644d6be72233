#!/usr/bin/python3
"""Converts the ValiMail ARC test suites (YAML) into JSON for the C++ unit test, which has
a JSON reader (nlohmann_json) but no YAML one. Run from this folder after updating the
.yml files:  /usr/bin/python3 convert_to_json.py
Output: one JSON file per suite, a list of documents, each {description, tests: {name:
{...}}, txt-records: {...}, and for signing: domain, sel, privatekey}, values as YAML gave
them (strings, t as an integer)."""
import json
import yaml

for name in ("arc-draft-validation-tests", "arc-draft-sign-tests"):
    with open(name + ".yml", encoding="utf-8") as source:
        documents = [document for document in yaml.safe_load_all(source) if document]
    with open(name + ".json", "w", encoding="utf-8") as target:
        json.dump(documents, target, indent=1, sort_keys=True)
        target.write("\n")
