/* placeholder: replaced by the fake kernel shim */
