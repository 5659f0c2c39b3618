//! XIVE (eXternal Interrupt Virtualization Engine), the POWER9 interrupt controller.
