DELETE FROM plans WHERE id = 4 AND code = 'enterprise-annual';
