"""Rule packs (policy parameters with clause ids) and the rule engine behind one interface."""
