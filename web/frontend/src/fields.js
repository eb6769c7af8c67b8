// What an input says about its error, for screen readers: invalid or not, and which element explains.
export function ariaFor(errors, field) {
  return {
    'aria-invalid': errors[field] ? 'true' : 'false',
    'aria-describedby': errors[field] ? `err-${field}` : undefined,
  }
}
