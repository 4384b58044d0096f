"""Record files to records: front matter, YAML, fields, cleaning, and the records' stored form."""
