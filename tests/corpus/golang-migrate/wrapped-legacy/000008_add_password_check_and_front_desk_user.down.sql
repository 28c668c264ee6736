begin;

delete from customers where email = 'frontdesk@example.invalid';
drop function verify_customer_password(text, text);

commit;
