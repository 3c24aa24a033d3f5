DROP TRIGGER deliveries_mark_federated ON deliveries;
DROP FUNCTION instance_identity_mark_federated();
DROP TABLE instance_identity;
