DROP TABLE training_materials;
DROP TABLE attachments;
DROP TABLE material_versions;
DROP TABLE materials;
