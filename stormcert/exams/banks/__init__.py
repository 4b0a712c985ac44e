"""Question banks in and out: GIFT, Aiken and Moodle XML files read into candidate questions with
every rejection explained (`read_file`), written back out (`exporters`), and the preview → import
workflow staff use (`services`)."""
