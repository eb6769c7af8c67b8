// What the server's stable error codes mean (problems.js): the request's (error.<code>), each
// field's (field.<code>) and each step's (stepError.<code>, with stepError.any.<step> for a code this
// page does not know). A test (tests/unit/web/test_error_codes.py) checks that every code the server
// can send has a text here in both languages.
export const ru = {
  'field.invalid': 'Неверное значение.',
}

export const en = {
  'field.invalid': 'This value is not valid.',
}
