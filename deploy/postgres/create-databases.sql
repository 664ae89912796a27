-- One database per service, as the services would have in production: they share nothing but the
-- broker. Run once, by the postgres image, when its volume is empty
-- (/docker-entrypoint-initdb.d). Each service creates its own tables at startup (migrations).
CREATE DATABASE orders;
CREATE DATABASE payments;
CREATE DATABASE notifications;
