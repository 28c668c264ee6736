begin;

-- crypt() and gen_salt() come from pgcrypto (installed by 000001).
create function verify_customer_password(p_email text, p_password text)
returns boolean
language sql
stable
as $$
    select exists (
        select 1
          from customers
         where email_normalized = lower(btrim(p_email))
           and password_hash is not null
           and password_hash = crypt(p_password, password_hash)
    );
$$;

insert into customers (display_name, email, email_normalized, password_hash)
values ('Front Desk', 'frontdesk@example.invalid', 'frontdesk@example.invalid',
        crypt('change-me-on-first-login', gen_salt('bf', 6)));

commit;
